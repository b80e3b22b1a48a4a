#include "wrk_run.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "common/api/api_client.h"
#include "common/process/process.h"

namespace rp::bench {
namespace {

constexpr const char* kWrk = "/usr/bin/wrk";

// Reads each "PATH TOKEN" line once in init (before wrk starts its clock), formats every request
// then, and hands them out in order. Past the end it repeats the last one (a replay); the caller
// tells such a run by its request count.
constexpr const char* kClaimScript = R"lua(
local requests = {}
local next_index = 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("^(%S+) (%S+)$")
    requests[#requests + 1] = wrk.format("POST", path, {["Authorization"] = "Bearer " .. token})
  end
end
request = function()
  if next_index < #requests then next_index = next_index + 1 end
  return requests[next_index]
end
)lua";

// "1.23ms", "845.00us", "1.02s" -> milliseconds; -1 when not a duration.
double DurationMs(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end;
  if (end == text.c_str()) return -1;
  if (unit == "us") return v / 1000;
  if (unit == "ms") return v;
  if (unit == "s") return v * 1000;
  if (unit == "m") return v * 60'000;
  return -1;
}

Result<WrkResult> Run(const std::vector<std::string>& argv, int seconds) {
  auto child = ChildProcess::Spawn(argv);
  if (!child.ok()) return Internal("cannot start wrk: " + child.status().ToString());
  std::string report;
  const int64_t deadline_ms = (seconds + 60) * int64_t{1000};  // wrk's init + run + report.
  for (;;) {
    Result<std::string> line = child->ReadLine(deadline_ms);
    if (!line.ok()) break;  // End of output (or a wrk stuck past the deadline: killed below).
    report += *line + "\n";
  }
  Result<int> rc = child->Wait(5000);
  if (!rc.ok() || *rc != 0) {
    child->Signal(SIGKILL);
    return Internal("wrk failed (exit " + (rc.ok() ? std::to_string(*rc) : "unknown") +
                    "): " + report);
  }
  return ParseWrkReport(report);
}

}  // namespace

bool WrkInstalled() {
  return access(kWrk, X_OK) == 0;
}

Result<WrkResult> ParseWrkReport(const std::string& text) {
  WrkResult r;
  std::smatch m;
  static const std::regex total(R"((\d+) requests in ([0-9.]+)(us|ms|s|m),)");
  if (!std::regex_search(text, m, total)) return Internal("no request count in wrk's report");
  r.requests = std::stoll(m[1]);
  r.seconds = DurationMs(m[2].str() + m[3].str()) / 1000;
  static const std::regex non2xx(R"(Non-2xx or 3xx responses: (\d+))");
  if (std::regex_search(text, m, non2xx)) r.non_2xx = std::stoll(m[1]);
  static const std::regex errors(
      R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))");
  if (std::regex_search(text, m, errors)) {
    for (int i = 1; i <= 4; ++i) r.socket_errors += std::stoll(m[i]);
  }
  static const std::regex p50(R"(\n\s+50%\s+(\S+))"), p99(R"(\n\s+99%\s+(\S+))");
  if (!std::regex_search(text, m, p50)) return Internal("no latency distribution in the report");
  r.p50_ms = DurationMs(m[1]);
  if (!std::regex_search(text, m, p99)) return Internal("no 99th percentile in wrk's report");
  r.p99_ms = DurationMs(m[1]);
  if (r.seconds <= 0 || r.p50_ms < 0 || r.p99_ms < 0) return Internal("unreadable wrk report");
  return r;
}

Result<WrkResult> RunWrkGet(int port, const std::string& path, int connections, int seconds) {
  return Run({kWrk, "-t1", "-c" + std::to_string(connections), "-d" + std::to_string(seconds) + "s",
              "--latency", "http://127.0.0.1:" + std::to_string(port) + path},
             seconds);
}

Result<WrkResult> RunWrkClaims(int port, const std::vector<WrkClaim>& claims,
                               const std::string& auth_secret, const std::string& dir,
                               int connections, int seconds) {
  const std::string tokens_path = dir + "/claims.txt", script_path = dir + "/claims.lua";
  {
    std::ofstream tokens(tokens_path);
    const api::Credentials credentials{auth_secret, ""};
    for (const WrkClaim& c : claims) {
      const std::string bearer = api::Bearer(credentials, c.user_id);  // "Bearer <token>".
      tokens << "/v1/packets/" << c.packet_id << "/claims " << bearer.substr(7) << "\n";
    }
    std::ofstream(script_path) << kClaimScript;
    if (!tokens) return Internal("cannot write " + tokens_path);
  }
  Result<WrkResult> r = Run({kWrk, "-t1", "-c" + std::to_string(connections),
                             "-d" + std::to_string(seconds) + "s", "--latency", "-s", script_path,
                             "http://127.0.0.1:" + std::to_string(port), "--", tokens_path},
                            seconds);
  if (r.ok() && r->requests + connections >= static_cast<int64_t>(claims.size())) {
    return Internal("wrk answered " + std::to_string(r->requests) + " requests of " +
                    std::to_string(claims.size()) + " claims prepared: give it more claims");
  }
  return r;
}

}  // namespace rp::bench
