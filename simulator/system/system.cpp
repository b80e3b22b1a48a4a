#include "simulator/system/system.h"

#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/ledger_engines.h"
#include "common/proc_cpu.h"

namespace rp::sim {
namespace {

// Reads the "... listening on http://127.0.0.1:PORT" line a program announces itself with.
Result<int> AwaitListening(ChildProcess& child, const std::string& name, const std::string& log,
                           int64_t timeout_ms = 20000) {
  auto line = child.ReadLine(timeout_ms);
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
    : scenario_(scenario),
      bin_dir_(std::move(bin_dir)),
      work_dir_(std::move(work_dir)),
      claim_scheme_(scenario.system.claim_scheme) {
  secrets_ = {crypto::RandomHex(24), crypto::RandomHex(24), crypto::RandomHex(24)};
}

SystemUnderTest::~SystemUnderTest() {
  (void)Stop();  // A destructor has no one to tell; Stop()'s callers see its errors.
}

Status SystemUnderTest::Start() {
  std::filesystem::create_directories(work_dir_ + "/mock");
  if (scenario_.system.redis) {
    redis_ = std::make_unique<RedisProcess>(work_dir_ + "/redis");
    if (Status s = redis_->Start(); !s.ok()) return s;
    Track(redis_->pid());
  }
  if (scenario_.system.ledger == kPostgresEngine) {
    if (Status s = StartDatabase(); !s.ok()) return s;
  }
  if (Status s = StartMock(); !s.ok()) return s;
  if (!scenario_.system.mock_switches_json.empty()) {
    if (Status s = PostSwitches(scenario_.system.mock_switches_json, false); !s.ok()) return s;
  }
  const size_t n = static_cast<size_t>(scenario_.system.instances);
  instances_.resize(n);
  if (n > 1) {  // The proxy's config names the instances' ports: pick them first.
    std::vector<int> ports;
    for (Instance& i : instances_) ports.push_back(i.port = FreeLoopbackPort());
    proxy_ = std::make_unique<HaproxyProcess>(work_dir_ + "/haproxy", ports);
  }
  if (Status s = WriteServerConfig(); !s.ok()) return s;
  if (Status s = CheckServerConfig(); !s.ok()) return s;
  for (size_t i = 0; i < n; ++i) {
    if (Status s = StartInstance(i); !s.ok()) return s;
  }
  if (proxy_) {
    if (Status s = proxy_->Start(); !s.ok()) return s;
    Track(proxy_->pid());
  }
  return Status::Ok();
}

Status SystemUnderTest::StartDatabase() {
  PostgresOptions options;
  options.track_statements = track_statements_;
  postgres_ = std::make_unique<PostgresProcess>(work_dir_ + "/pg", options);
  Status s = postgres_->Start();
  if (s.ok()) Track(postgres_->pid());
  return s;
}

Result<std::string> SystemUnderTest::StatementFigures(int limit) const {
  if (!postgres_) return Status(Error::kBadConfig, "statement figures need the postgres ledger");
  return postgres_->StatementFigures(limit);
}

SystemCpu SystemUnderTest::SampleCpu() const {
  SystemCpu cpu;
  auto add = [&cpu](const char* part, pid_t pid) {
    if (pid <= 0) return;
    Result<double> seconds = ProcessTreeCpuSeconds(pid);
    if (!seconds.ok()) return;
    cpu.seconds[part] += *seconds;
    cpu.pids.push_back(pid);
  };
  for (const Instance& i : instances_) {
    if (!i.child) continue;
    add("rp-server", i.child->pid());
    for (const auto& [name, seconds] : ThreadCpuSeconds(i.child->pid())) {
      cpu.server_threads[name] += seconds;
    }
  }
  if (redis_) add("redis", redis_->pid());
  if (postgres_) add("postgres", postgres_->pid());
  if (proxy_) add("haproxy", proxy_->pid());
  if (mock_) add(kMockPart, mock_->pid());
  return cpu;
}

int SystemUnderTest::server_port() const {
  if (proxy_) return proxy_->port();
  return instances_.empty() ? 0 : instances_[0].port;
}

std::vector<int> SystemUnderTest::instance_ports() const {
  std::vector<int> out;
  for (const Instance& i : instances_) out.push_back(i.port);
  return out;
}

std::vector<pid_t> SystemUnderTest::instance_pids() const {
  std::vector<pid_t> out;
  for (const Instance& i : instances_) {
    if (i.child) out.push_back(i.child->pid());
  }
  return out;
}

std::vector<std::string> SystemUnderTest::LedgerArgs() const {
  if (postgres_)
    return {"--ledger", std::string(kPostgresEngine), "--ledger-url", postgres_->url()};
  return {"--db", work_dir_ + "/ledger.db"};
}

std::string SystemUnderTest::InstanceLog(size_t i) const {
  return work_dir_ +
         (instances_.size() == 1 ? "/rp-server.log" : "/rp-server-" + std::to_string(i) + ".log");
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

// The scenario's system.server, with what only rp-sim knows added: payment callbacks come back
// through the proxy when there is one, as they would to a real deployment.
Status SystemUnderTest::WriteServerConfig() {
  nlohmann::json config = scenario_.system.server_config;
  if (proxy_) config["payment"]["notify_url"] = proxy_->url() + "/v1/payments/callback";
  std::ofstream out(server_config_path());
  for (const auto& [section, body] : config.items()) {
    out << section << ": " << body.dump() << "\n";  // JSON is YAML: each section a flow mapping.
  }
  out.close();
  if (!out) return Status(Error::kStartFailed, "could not write " + server_config_path());
  return Status::Ok();
}

// rp-server's own loader reads the config and the flags the instances will get: a key it does
// not know or a value out of its range stops the run here, in rp-server's words.
Status SystemUnderTest::CheckServerConfig() {
  std::vector<std::string> argv = {bin_dir_ + "/rp-server", "config", "--check"};
  for (const std::string& a : ServerArgs(0)) argv.push_back(a);
  const std::string log = work_dir_ + "/rp-server-config-check.log";
  auto child = ChildProcess::Spawn(argv, ServerEnv(), log);
  if (!child.ok()) return child.status();
  Result<std::string> line = child->ReadLine(launch_.start_timeout_ms);
  Result<int> code = child->Wait(launch_.start_timeout_ms);
  if (!code.ok() || *code != 0 || !line.ok()) {
    std::ifstream in(log);
    std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status(Error::kBadScenario, "system.server (" + scenario_.path +
                                           "): rp-server refused its config: " + message);
  }
  server_settings_ = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (!server_settings_.is_object()) {
    return Status(Error::kStartFailed, "rp-server config --check printed no settings");
  }
  return Status::Ok();
}

int64_t SystemUnderTest::packet_ttl_s() const {
  auto ttl = server_settings_.find("packet.ttl_s");
  return ttl != server_settings_.end() && ttl->is_number_integer() ? ttl->get<int64_t>() : 0;
}

int64_t SettleWaitS(const Scenario& scenario, const SystemUnderTest* system) {
  constexpr int64_t kSettleAfterTtlS = 45;
  constexpr int64_t kTargetTtlS = 30;  // A server rp-sim did not start: its TTL is unknown.
  if (system != nullptr && system->packet_ttl_s() > 0) {
    return system->packet_ttl_s() + kSettleAfterTtlS;
  }
  const nlohmann::json* ttl = ServerConfigKey(scenario.system, "packet.ttl_s");
  const bool given = ttl != nullptr && ttl->is_number_integer();
  return (given ? ttl->get<int64_t>() : kTargetTtlS) + kSettleAfterTtlS;
}

std::vector<std::string> SystemUnderTest::ServerArgs(size_t i) const {
  std::vector<std::string> argv = {"--config",       server_config_path(),
                                   "--port",         std::to_string(instances_[i].port),
                                   "--mocks",        mock_url(),
                                   "--claim-scheme", claim_scheme_,
                                   "--seed",         std::to_string(scenario_.seed + i)};
  for (const std::string& a : LedgerArgs()) argv.push_back(a);
  for (const std::string& a : launch_.extra_args) argv.push_back(a);
  if (redis_) {
    argv.push_back("--redis");
    argv.push_back(redis_->url());
  }
  return argv;
}

std::vector<std::string> SystemUnderTest::ServerEnv() const {
  std::vector<std::string> env = {"RP_AUTH_SECRET=" + secrets_.auth,
                                  "RP_PAYMENT_SECRET=" + secrets_.payment,
                                  "RP_REWARD_SECRET=" + secrets_.reward};
  env.insert(env.end(), server_env_.begin(), server_env_.end());
  return env;
}

Status SystemUnderTest::StartInstance(size_t i) {
  const std::string log = InstanceLog(i);
  Instance& instance = instances_[i];
  std::vector<std::string> argv = {bin_dir_ + "/rp-server", "serve"};
  for (const std::string& a : ServerArgs(i)) argv.push_back(a);
  argv.insert(argv.begin(), launch_.prefix.begin(), launch_.prefix.end());
  auto child = ChildProcess::Spawn(argv, ServerEnv(), log);
  if (!child.ok()) return child.status();
  instance.child.emplace(std::move(child.value()));
  Track(instance.child->pid());
  Result<int> port = AwaitListening(*instance.child, "rp-server", log, launch_.start_timeout_ms);
  if (!port.ok()) return port.status();
  instance.port = *port;
  return Status::Ok();
}

std::string SystemUnderTest::StopInstance(size_t i, int signal) {
  Instance& instance = instances_[i];
  if (!instance.child) return "not running";
  instance.child->Signal(signal);
  instance.child->Signal(SIGCONT);  // A frozen (SIGSTOP) server cannot act on SIGTERM.
  auto code = instance.child->Wait(launch_.stop_timeout_ms);
  Untrack(instance.child->pid());
  instance.child.reset();
  return code.ok() ? "exit " + std::to_string(*code) : "did not exit";
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

// One case per action, no default: a new action that is not applied here does not compile
// (-Wswitch), so an unknown one can never fall through to another's effect.
Result<std::string> SystemUnderTest::Apply(const Fault& f) {
  switch (f.action) {
    case FaultAction::kRedisStop:
    case FaultAction::kRedisStart:
    case FaultAction::kRedisFlush:
    case FaultAction::kRedisSnapshot:
    case FaultAction::kRedisStaleRestart:
      return ApplyRedisFault(f);
    case FaultAction::kServerKill:
    case FaultAction::kServerRestart:
      return ApplyServerRestart(f);
    case FaultAction::kServerPause:
    case FaultAction::kServerResume:
      return FreezeInstances(f.action == FaultAction::kServerPause);
    case FaultAction::kInstanceKill:
    case FaultAction::kInstanceRestart:
      return ApplyInstanceFault(f);
    case FaultAction::kDbCrash:
    case FaultAction::kDbRestart:
      return ApplyDatabaseFault(f);
    case FaultAction::kMockSwitch:
      if (Status s = PostSwitches(f.switch_json, false); !s.ok()) return s;
      return "rp-mock switch " + f.switch_json;
    case FaultAction::kMockReset:
      if (Status s = PostSwitches("", true); !s.ok()) return s;
      return std::string("rp-mock switches reset");
  }
  return Internal("fault action without a case");  // Unreachable: the switch names them all.
}

Result<std::string> SystemUnderTest::ApplyServerRestart(const Fault& f) {
  if (!f.claim_scheme.empty()) claim_scheme_ = f.claim_scheme;
  Result<std::string> done = RestartAll(f.action == FaultAction::kServerKill);
  if (!done.ok() || f.claim_scheme.empty()) return done;
  return *done + " under claim scheme " + f.claim_scheme;
}

// SIGSTOP (pause) or SIGCONT every running instance: alive, answering nothing while frozen.
Result<std::string> SystemUnderTest::FreezeInstances(bool pause) {
  std::string detail;
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (!instances_[i].child) continue;
    instances_[i].child->Signal(pause ? SIGSTOP : SIGCONT);
    detail += std::string(detail.empty() ? "" : ", ") + std::to_string(instances_[i].port);
  }
  if (detail.empty()) return Status(Error::kStartFailed, "no rp-server is running");
  return std::string(pause ? "rp-server frozen (SIGSTOP), port "
                           : "rp-server resumed (SIGCONT), port ") +
         detail;
}

// Every instance down first, then all up again: the whole app tier crashes (or is redeployed)
// at once, not one instance at a time behind the proxy.
Result<std::string> SystemUnderTest::RestartAll(bool kill) {
  std::string detail;
  for (size_t i = 0; i < instances_.size(); ++i) {
    const std::string code = StopInstance(i, kill ? SIGKILL : SIGTERM);
    detail += std::string(detail.empty() ? "" : "; ") + "rp-server" +
              (instances_.size() > 1 ? " " + std::to_string(i) : "") +
              (kill ? " killed (SIGKILL) " : " stopped (SIGTERM) ") + code;
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (Status s = StartInstance(i); !s.ok()) return s;
  }
  return detail + "; restarted on port" + (instances_.size() > 1 ? "s " : " ") + [&] {
    std::string ports;
    for (const Instance& i : instances_)
      ports += (ports.empty() ? "" : ", ") + std::to_string(i.port);
    return ports;
  }();
}

Result<std::string> SystemUnderTest::ApplyRedisFault(const Fault& f) {
  const std::string port = "(port " + std::to_string(redis_->port()) + ")";
  if (f.action == FaultAction::kRedisStop) {
    Untrack(redis_->pid());
    redis_->Kill();
    return "redis-server killed " + port;
  }
  if (f.action == FaultAction::kRedisFlush) {
    Result<std::string> r = redis_->Command({"FLUSHALL"});
    if (!r.ok()) return r.status();
    return "redis-server flushed (FLUSHALL) " + port;
  }
  if (f.action == FaultAction::kRedisSnapshot) {
    Result<std::string> r = redis_->Command({"SAVE"});
    if (!r.ok()) return r.status();
    return "redis-server snapshot saved " + port;
  }
  const bool stale = f.action == FaultAction::kRedisStaleRestart;
  if (stale) {
    if (!std::filesystem::exists(redis_->snapshot_path())) {
      return Status(Error::kRedisFailed, "no snapshot to restart from (redis_snapshot first)");
    }
    Untrack(redis_->pid());
    redis_->Kill();
  }
  if (Status s = redis_->Start(); !s.ok()) return s;  // redis_start, or the stale restart.
  Track(redis_->pid());
  if (!stale) return "redis-server started, empty " + port;
  // Loaded once: a later redis_start comes back empty, as its record says.
  std::error_code ec;
  std::filesystem::remove(redis_->snapshot_path(), ec);
  return "redis-server killed and restarted from the older snapshot " + port;
}

Result<std::string> SystemUnderTest::ApplyInstanceFault(const Fault& f) {
  const size_t i = static_cast<size_t>(f.instance);
  if (i >= instances_.size())
    return Status(Error::kBadScenario, "no instance " + std::to_string(i));
  const std::string which =
      "rp-server " + std::to_string(i) + " (port " + std::to_string(instances_[i].port) + ")";
  if (f.action == FaultAction::kInstanceKill) {
    const std::string code = StopInstance(i, SIGKILL);
    return which + " killed (SIGKILL) " + code + "; left down, the proxy sends its packets on";
  }
  const std::string code =
      instances_[i].child ? " stopped (SIGTERM) " + StopInstance(i, SIGTERM) : " was down";
  if (Status s = StartInstance(i); !s.ok()) return s;
  return which + code + ", started again";
}

Result<std::string> SystemUnderTest::ApplyDatabaseFault(const Fault& f) {
  if (!postgres_)
    return Status(Error::kBadScenario, std::string(Name(f.action)) + " needs the postgres ledger");
  const int64_t start_ns = MonotonicNs();
  Untrack(postgres_->pid());
  std::string how;
  if (f.action == FaultAction::kDbCrash) {
    postgres_->Crash();
    how = "PostgreSQL immediate shutdown (no checkpoint)";
  } else {
    if (Status s = postgres_->Stop(); !s.ok()) return s;
    how = "PostgreSQL fast shutdown";
  }
  if (Status s = postgres_->Start(); !s.ok()) return s;
  Track(postgres_->pid());
  const int64_t took_ms = (MonotonicNs() - start_ns) / 1'000'000;
  return how + ", up again after " + std::to_string(took_ms) + " ms";
}

void SystemUnderTest::ThawAll() {
  for (Instance& i : instances_) {
    if (i.child) i.child->Signal(SIGCONT);
  }
}

Status SystemUnderTest::Stop() {
  Status result = Status::Ok();
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (!instances_[i].child) continue;  // Killed by the timeline and left down.
    const std::string code = StopInstance(i, SIGTERM);
    if (code != "exit 0" && result.ok()) {
      result = Internal("rp-server did not exit cleanly on SIGTERM (" + code + "); see " +
                        InstanceLog(i));
    }
  }
  if (proxy_) {
    Untrack(proxy_->pid());
    proxy_->Stop();
  }
  if (mock_) {
    mock_->Signal(SIGTERM);
    (void)mock_->Wait(10000);  // rp-mock's exit code says nothing about the run's money.
    Untrack(mock_->pid());
    mock_.reset();
  }
  if (redis_) {
    Untrack(redis_->pid());
    redis_->Kill();
  }
  if (postgres_) {
    Untrack(postgres_->pid());
    if (Status s = postgres_->Stop(); !s.ok() && result.ok()) result = s;
  }
  return result;
}

}  // namespace rp::sim
