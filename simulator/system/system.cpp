#include "simulator/system/system.h"

#include <httplib.h>
#include <openssl/rand.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace rp::sim {
namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

// Reads the "... listening on http://127.0.0.1:PORT" line a program announces itself with.
Result<int> AwaitListening(ChildProcess& child, const std::string& name, const std::string& log) {
  auto line = child.ReadLine(20000);
  if (!line.ok()) return Status(Error::kStartFailed, name + " did not start; see " + log);
  return ParseListeningPort(*line);
}

std::mutex g_started_mu;
std::set<pid_t> g_started;

void Track(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_started_mu);
  if (pid > 0) g_started.insert(pid);
}

void Untrack(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_started_mu);
  g_started.erase(pid);
}

}  // namespace

void KillStartedProcesses() {
  std::lock_guard<std::mutex> lock(g_started_mu);
  for (pid_t pid : g_started) kill(pid, SIGKILL);
}

SystemUnderTest::SystemUnderTest(const Scenario& scenario, std::string bin_dir,
                                 std::string work_dir)
    : scenario_(scenario), bin_dir_(std::move(bin_dir)), work_dir_(std::move(work_dir)) {
  secrets_ = {RandomHex(24), RandomHex(24), RandomHex(24)};
}

SystemUnderTest::~SystemUnderTest() {
  (void)Stop();
}

Status SystemUnderTest::Start() {
  std::filesystem::create_directories(work_dir_ + "/mock");
  if (scenario_.system.redis) {
    redis_ = std::make_unique<RedisProcess>(work_dir_ + "/redis");
    if (Status s = redis_->Start(); !s.ok()) return s;
    Track(redis_->pid());
  }
  if (Status s = StartMock(); !s.ok()) return s;
  if (!scenario_.system.mock_switches_json.empty()) {
    if (Status s = PostSwitches(scenario_.system.mock_switches_json, false); !s.ok()) return s;
  }
  // The server's settings that have no flag go through a config file.
  std::ofstream config(work_dir_ + "/server.yaml");
  config << "subsidy: {mode: " << scenario_.system.subsidy_mode << "}\n"
         << "async: {queue: " << scenario_.system.queue << "}\n"
         << "payment: {poll_ms: " << scenario_.system.payment_poll_ms << "}\n";
  config.close();
  return StartServer();
}

Status SystemUnderTest::StartMock() {
  const std::string log = work_dir_ + "/rp-mock.log";
  auto child = ChildProcess::Spawn(
      {bin_dir_ + "/rp-mock", "serve", "--port", "0", "--data-dir", work_dir_ + "/mock", "--seed",
       std::to_string(scenario_.seed)},
      {"RP_PAYMENT_SECRET=" + secrets_.payment, "RP_REWARD_SECRET=" + secrets_.reward}, log);
  if (!child.ok()) return child.status();
  mock_.emplace(std::move(child.value()));
  Track(mock_->pid());
  Result<int> port = AwaitListening(*mock_, "rp-mock", log);
  if (!port.ok()) return port.status();
  mock_port_ = *port;
  return Status::Ok();
}

Status SystemUnderTest::StartServer() {
  const SystemSpec& s = scenario_.system;
  const std::string log = work_dir_ + "/rp-server.log";
  std::vector<std::string> argv = {bin_dir_ + "/rp-server",
                                   "serve",
                                   "--config",
                                   work_dir_ + "/server.yaml",
                                   "--port",
                                   std::to_string(server_port_),
                                   "--db",
                                   ledger_path(),
                                   "--mocks",
                                   mock_url(),
                                   "--claim-scheme",
                                   s.claim_scheme,
                                   "--threads",
                                   std::to_string(s.server_threads),
                                   "--packet-ttl",
                                   std::to_string(s.packet_ttl_s),
                                   "--scan-interval-ms",
                                   std::to_string(s.scan_interval_ms),
                                   "--seed",
                                   std::to_string(scenario_.seed)};
  if (redis_) {
    argv.push_back("--redis");
    argv.push_back(redis_->url());
  }
  auto child = ChildProcess::Spawn(
      argv,
      {"RP_AUTH_SECRET=" + secrets_.auth, "RP_PAYMENT_SECRET=" + secrets_.payment,
       "RP_REWARD_SECRET=" + secrets_.reward},
      log);
  if (!child.ok()) return child.status();
  server_.emplace(std::move(child.value()));
  Track(server_->pid());
  Result<int> port = AwaitListening(*server_, "rp-server", log);
  if (!port.ok()) return port.status();
  server_port_ = *port;
  return Status::Ok();
}

Status SystemUnderTest::PostSwitches(const std::string& json, bool reset) {
  httplib::Client mock("127.0.0.1", mock_port_);
  mock.set_read_timeout(10, 0);
  if (reset) {
    auto r = mock.Delete("/admin/switches");
    if (!r || r->status >= 300) return Status(Error::kMockSwitchFailed, "DELETE /admin/switches");
    return Status::Ok();
  }
  // One switch object, or a list of them.
  std::vector<std::string> bodies;
  if (!json.empty() && json[0] == '[') {
    for (const auto& sw : nlohmann::json::parse(json)) bodies.push_back(sw.dump());
  } else {
    bodies.push_back(json);
  }
  for (const std::string& body : bodies) {
    auto r = mock.Post("/admin/switches", body, "application/json");
    if (!r || r->status >= 300) {
      return Status(
          Error::kMockSwitchFailed, Code::kInvalidArgument,
          "rp-mock refused switch " + body + ": " + (r ? r->body : std::string("no answer")));
    }
  }
  return Status::Ok();
}

Result<std::string> SystemUnderTest::Apply(const Fault& f) {
  if (f.action == "redis_stop") {
    Untrack(redis_->pid());
    redis_->Kill();
    return std::string("redis-server killed (port " + std::to_string(redis_->port()) + ")");
  }
  if (f.action == "redis_start") {
    if (Status s = redis_->Start(); !s.ok()) return s;
    Track(redis_->pid());
    return std::string("redis-server started, empty (port " + std::to_string(redis_->port()) + ")");
  }
  if (f.action == "server_kill" || f.action == "server_restart") {
    const bool kill = f.action == "server_kill";
    server_->Signal(kill ? SIGKILL : SIGTERM);
    auto code = server_->Wait(30000);
    Untrack(server_->pid());
    server_.reset();
    if (Status s = StartServer(); !s.ok()) return s;
    return std::string(kill ? "rp-server killed (SIGKILL)" : "rp-server stopped (SIGTERM)") +
           (code.ok() ? " exit " + std::to_string(*code) : "") + ", restarted on port " +
           std::to_string(server_port_);
  }
  if (f.action == "mock_switch") {
    if (Status s = PostSwitches(f.switch_json, false); !s.ok()) return s;
    return "rp-mock switch " + f.switch_json;
  }
  if (Status s = PostSwitches("", true); !s.ok()) return s;  // mock_reset
  return std::string("rp-mock switches reset");
}

Status SystemUnderTest::Stop() {
  Status result = Status::Ok();
  if (server_) {
    server_->Signal(SIGTERM);
    auto code = server_->Wait(30000);
    if (!code.ok() || *code != 0) {
      result = Internal("rp-server did not exit cleanly on SIGTERM; see " + work_dir_ +
                        "/rp-server.log");
    }
    Untrack(server_->pid());
    server_.reset();
  }
  if (mock_) {
    mock_->Signal(SIGTERM);
    (void)mock_->Wait(10000);
    Untrack(mock_->pid());
    mock_.reset();
  }
  if (redis_) {
    Untrack(redis_->pid());
    redis_->Kill();
  }
  return result;
}

}  // namespace rp::sim
