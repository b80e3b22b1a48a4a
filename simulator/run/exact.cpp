#include "simulator/run/exact.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/clock.h"
#include "common/ledger_engines.h"
#include "common/process/process.h"

namespace rp::sim {

// HTTP: the head's and the body's parsing (each parsed as its read starts, the bytes being
// buffered already), then routing, authentication and the scheme's start (OnRead); the claim's
// answer and its sending on the connection's thread (AnswerClaim). The ledger: each batch's
// transaction, commit and completions (SqliteWriter::RunBatch). Redis schemes: each pipeline
// round trip and its completions (RedisPipeline::RunBatch).
const std::vector<std::string> kCallgrindToggles = {
    "rp::gateway::Session::ReadHead()",
    "rp::gateway::Session::OnHead(boost::system::error_code)",
    "rp::gateway::Session::OnRead(boost::system::error_code)",
    "rp::gateway::(anonymous namespace)::AnswerClaim(*)",
    "rp::ledger::SqliteWriter::RunBatch(*)",
    "rp::base::RedisPipeline::RunBatch(*)",
};

namespace {

// Under valgrind a server starts in seconds and its first requests translate code: minutes of
// room, so a slow machine is not mistaken for a failure.
constexpr int64_t kValgrindStartMs = 180'000;
constexpr int64_t kValgrindStopMs = 180'000;
// The slice ends when its claims are done; this only bounds a slice that cannot finish.
constexpr int64_t kSliceCapS = 1800;
constexpr int64_t kToolTimeoutMs = 60'000;

std::string CallgrindOutFile(const std::string& work_dir) {
  return work_dir + "/callgrind.out";
}

// Runs a short tool to its end; its stdout, or why it failed.
Result<std::string> RunTool(const std::vector<std::string>& argv) {
  Result<ChildProcess> child = ChildProcess::Spawn(argv, {}, "/dev/null");  // vgdb chatters.
  if (!child.ok()) return child.status();
  std::string out;
  for (Result<std::string> line = child->ReadLine(kToolTimeoutMs); line.ok();
       line = child->ReadLine(kToolTimeoutMs)) {
    out += *line + "\n";
  }
  Result<int> code = child->Wait(kToolTimeoutMs);
  if (!code.ok() || *code != 0) {
    return Status(Error::kStartFailed, argv[0] + " " + argv[1] + " failed: " + out);
  }
  return out;
}

Result<std::string> ValgrindVersion(const std::string& valgrind_path) {
  Result<std::string> out = RunTool({valgrind_path, "--version"});
  if (!out.ok()) return out.status();
  std::string version = *out;
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) version.pop_back();
  return version;
}

// callgrind_control -z (zero) or -d (dump) on the server; both answer once done.
Status ControlCallgrind(const char* command, pid_t pid) {
  const std::string control = FindInPath("callgrind_control");
  if (control.empty()) return Status(Error::kStartFailed, "callgrind_control is not on PATH");
  Result<std::string> out = RunTool({control, command, std::to_string(pid)});
  return out.ok() ? Status::Ok() : out.status();
}

Result<uint64_t> ReadCallgrindFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Error::kStartFailed, "callgrind wrote no " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseCallgrindTotals(text.str());
}

void PrintExactProgress(const Progress& p) {
  if (static_cast<int64_t>(p.elapsed_s) % 5 != 0) return;
  std::printf("[exact] %4.0f s  %6.0f claims/s under callgrind  errors %lld\n", p.elapsed_s,
              p.requests_per_s, static_cast<long long>(p.errors));
  std::fflush(stdout);
}

// The slice's claims by answer: sent, and won (201).
void CountClaims(const LoadOutcome& load, ExactFigures* figures) {
  auto it = load.stats.ops().find("claim");
  if (it == load.stats.ops().end()) return;
  figures->claim_requests = it->second.requests;
  auto won = it->second.by_status.find(201);
  figures->claims_won = won == it->second.by_status.end() ? 0 : won->second;
}

CheckResult EveryClaimWon(const ExactFigures& f, int64_t claims) {
  CheckResult c;
  c.kind = "exact";
  c.check = "exact: every one of the slice's claims won (201)";
  c.actual = static_cast<double>(f.claims_won);
  c.passed = f.claim_requests == claims && f.claims_won == claims;
  c.detail = std::to_string(f.claims_won) + " of " + std::to_string(f.claim_requests) +
             " claim requests won, " + std::to_string(claims) + " planned" +
             (c.passed ? "" : ": the instructions per claim are not comparable with other slices");
  return c;
}

// Stops the server and starts it again on its port and ledger, launched as `launch` says.
Status RestartAs(SystemUnderTest* system, const ServerLaunch& launch) {
  system->SetServerLaunch(launch);
  Fault restart;
  restart.action = FaultAction::kServerRestart;
  Result<std::string> done = system->Apply(restart);
  return done.ok() ? Status::Ok() : done.status();
}

// Fixtures (not counted), then the counters zeroed, the slice, the counters dumped and read.
Result<ExactFigures> MeasureSlice(const RunOptions& o, const Scenario& s, const Target& t,
                                  SystemUnderTest* system, LoadOutcome* load, RunReport* report) {
  ExactFigures figures;
  Result<std::string> version = ValgrindVersion(FindInPath("valgrind"));
  if (!version.ok()) return version.status();
  figures.valgrind_version = *version;
  // The fixtures on the server as usual: its workers settle the hot packets' payments.
  std::vector<ObservedPacket> hot;
  if (Status st = PrepareFixtures(s, t, &hot); !st.ok()) return st;
  const ServerLaunch counted = ExactServerLaunch(FindInPath("valgrind"), system->work_dir());
  if (Status st = RestartAs(system, counted); !st.ok()) return st;
  const std::vector<pid_t> pids = system->instance_pids();
  if (pids.size() != 1) return Internal("--exact needs exactly one rp-server");
  if (Status st = ControlCallgrind("-z", pids[0]); !st.ok()) return st;
  if (!o.brief) {
    std::printf("rp-sim: --exact: %lld claims on one connection, rp-server under callgrind\n",
                static_cast<long long>(o.exact_claims));
    std::fflush(stdout);
  }
  report->load_started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  *load = RunLoad(s, t, hot, MonotonicNs(), [&](const Progress& p) {
    if (!o.quiet && !o.brief) PrintExactProgress(p);
  });
  if (Status st = ControlCallgrind("-d", pids[0]); !st.ok()) return st;
  // The first dump of the process: the slice's counts, from the zeroing to now.
  Result<uint64_t> instructions = ReadCallgrindFile(CallgrindOutFile(system->work_dir()) + ".1");
  if (!instructions.ok()) return instructions.status();
  figures.instructions = *instructions;
  CountClaims(*load, &figures);
  return figures;
}

}  // namespace

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "";
}

Status CheckExactFits(const RunOptions& o, const Scenario& s, const std::string& valgrind_path) {
  if (!o.target.empty()) {
    return Status(Error::kBadConfig,
                  "--exact counts the instructions of the rp-server rp-sim starts under valgrind; "
                  "it cannot measure a server given with --target");
  }
  if (valgrind_path.empty()) {
    return Status(Error::kBadConfig,
                  "--exact runs rp-server under valgrind's callgrind, and valgrind is not on PATH: "
                  "install valgrind (apt-get install valgrind)");
  }
  if (s.system.ledger != kSqliteEngine || s.system.instances != 1) {
    return Status(Error::kBadScenario,
                  "--exact counts one rp-server on the sqlite ledger (the PostgreSQL server's "
                  "work is another process's): use --ledger sqlite and one instance");
  }
  const FlowSpec& f = s.flows;
  if (f.hot.weight <= 0 || f.c2c.weight > 0 || f.b2c.weight > 0) {
    return Status(Error::kBadScenario,
                  "--exact sends claims on hot packets: the scenario's flows must be `hot` alone");
  }
  if (static_cast<int64_t>(f.hot.packets) * f.hot.shares < o.exact_claims) {
    return Status(Error::kBadScenario,
                  "--exact-claims " + std::to_string(o.exact_claims) +
                      " is more than the hot packets' shares: every claim of the slice must win");
  }
  return Status::Ok();
}

void ShapeExactSlice(Scenario& s, int64_t claims) {
  s.load.model = "closed";
  s.load.connections = 1;
  s.load.journeys_max = claims;
  s.load.request_timeout_ms = std::max<int64_t>(s.load.request_timeout_ms, 60'000);
  Phase slice;
  slice.name = "exact";
  slice.duration_s = kSliceCapS;
  slice.users = 1;
  slice.think_ms = 0;
  s.load.phases = {slice};
  s.faults.clear();
  s.checks.clear();  // The slice is judged on its own check (every claim won) and the money.
  // An expiry scan is a ledger transaction whenever its period comes round: none in the slice.
  s.system.server_config["scanner"]["interval_ms"] = 3'600'000;
}

std::vector<std::string> CallgrindCommand(const std::string& valgrind_path,
                                          const std::string& out_file) {
  std::vector<std::string> argv = {
      valgrind_path, "--tool=callgrind", "--callgrind-out-file=" + out_file,
      // Nothing counts outside the toggled functions: idle threads, timers and start-up are out.
      "--collect-atstart=no",
      // One total over every thread: which thread served a request does not matter.
      "--separate-threads=no",
      // callgrind_control zeroes and dumps the counters through valgrind's gdbserver.
      "--vgdb=yes"};
  for (const std::string& fn : kCallgrindToggles) argv.push_back("--toggle-collect=" + fn);
  return argv;
}

ServerLaunch ExactServerLaunch(const std::string& valgrind_path, const std::string& work_dir) {
  ServerLaunch launch;
  launch.prefix = CallgrindCommand(valgrind_path, CallgrindOutFile(work_dir));
  // Workers lease tasks on timers and batch what they find: their writes would share the
  // slice's commits as timing decides.
  launch.extra_args = {"--no-workers"};
  launch.start_timeout_ms = kValgrindStartMs;
  launch.stop_timeout_ms = kValgrindStopMs;
  return launch;
}

Result<uint64_t> ParseCallgrindTotals(const std::string& text) {
  std::string summary;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("totals:", 0) == 0) {
      summary = line.substr(7);
      break;
    }
    if (line.rfind("summary:", 0) == 0) summary = line.substr(8);
  }
  std::stringstream fields(summary);
  uint64_t ir = 0;
  if (summary.empty() || !(fields >> ir)) {
    return Status(Error::kBadConfig, "a callgrind output file has no totals: or summary: line");
  }
  return ir;
}

int ExecuteExact(const RunOptions& o, const Scenario& s, const Target& t, SystemUnderTest* system,
                 const std::string& out_dir, LoadOutcome* load, VerificationReport* verification,
                 RunReport* report) {
  Result<ExactFigures> figures = MeasureSlice(o, s, t, system, load, report);
  // As usual again, with its workers: the slice's transfers run and the money can be verified.
  ServerLaunch plain;
  plain.stop_timeout_ms = kValgrindStopMs;  // The instance being stopped is valgrind's.
  Status st = figures.ok() ? RestartAs(system, plain) : figures.status();
  if (!st.ok()) {
    std::cerr << "rp-sim: --exact: " << st.ToString() << "\n";
    return 2;
  }
  // Kept with the results, for callgrind_annotate: where the instructions went.
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  std::filesystem::copy_file(CallgrindOutFile(system->work_dir()) + ".1",
                             out_dir + "/callgrind.out",
                             std::filesystem::copy_options::overwrite_existing, ec);
  VerifyOptions vo;
  vo.settle_wait_s_max = SettleWaitS(s, system);
  *verification = Verify(load->observed, t, vo);
  report->load = load;
  report->verification = verification;
  report->checks = {EveryClaimWon(*figures, o.exact_claims)};
  report->exact = *figures;
  report->passed = verification->ok && report->checks.front().passed;
  return 0;
}

}  // namespace rp::sim
