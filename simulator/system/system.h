// SystemUnderTest: the processes a scenario runs against when rp-sim has no --target — a private
// redis-server (when the scenario asks for one), a private PostgreSQL (ledger: postgres), rp-mock
// and one or more rp-server instances (several behind a private HAProxy), in a temporary
// directory on free loopback ports, with fresh random secrets — and the fault actions the
// timeline applies to them. An instance restarts on its own port and the same ledger, so clients
// and the proxy reconnect to it.
// Methods are called from the orchestrating thread and the fault thread, never concurrently
// (the fault thread owns it during the load). The destructor stops whatever still runs.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/process/haproxy_process.h"
#include "common/process/pg_process.h"
#include "common/process/process.h"
#include "common/process/redis_process.h"
#include "common/status.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

struct Secrets {
  std::string auth;
  std::string payment;
  std::string reward;
};

// CPU time charged so far to each part of a SystemUnderTest (ProcessTreeCpuSeconds), and which
// processes were read: two samples describe the same processes only when their pids are equal.
struct SystemCpu {
  std::map<std::string, double> seconds;  // "rp-server" (all instances), "redis", "postgres",
                                          // "haproxy", "rp-mock" (kMockPart): those running.
  std::vector<pid_t> pids;
  // rp-server's CPU by thread name (all instances): where the system's time went.
  std::map<std::string, double> server_threads;
};
// rp-mock stands in for the payment, wallet, reward and social services: not the system's cost.
inline constexpr const char* kMockPart = "rp-mock";

// Every process a SystemUnderTest started and has not stopped, so that rp-sim, interrupted by
// SIGINT/SIGTERM, can take them down with it instead of leaving them running. Thread-safe.
void KillStartedProcesses();

// How rp-server instances are started. By default the binary itself; rp-sim --exact runs it
// under valgrind, which is slow to start and to stop, with flags of its own.
struct ServerLaunch {
  std::vector<std::string> prefix;      // Before rp-server's path (e.g. valgrind and its options).
  std::vector<std::string> extra_args;  // After the usual flags (e.g. --no-workers).
  int64_t start_timeout_ms = 20000;     // For the "listening on" line.
  int64_t stop_timeout_ms = 30000;      // For the exit after SIGTERM.
};

class SystemUnderTest {
 public:
  // bin_dir holds rp-server and rp-mock; work_dir receives the ledger, mock data and logs.
  SystemUnderTest(const Scenario& scenario, std::string bin_dir, std::string work_dir);
  ~SystemUnderTest();

  // Starts redis and PostgreSQL (if asked), rp-mock (with the scenario's initial switches), the
  // rp-server instances and, with several, HAProxy.
  Status Start();
  // Before Start(): more "K=V" environment for every rp-server instance (an A/B regress sets a
  // server knob, or the test build's planted bugs, on one side only).
  void SetServerEnv(std::vector<std::string> env) { server_env_ = std::move(env); }
  // Before Start(): PostgreSQL loads pg_stat_statements, for StatementFigures().
  void TrackStatements() { track_statements_ = true; }
  // How the instances started from now on (Start(), a restart) are launched.
  void SetServerLaunch(ServerLaunch launch) { launch_ = std::move(launch); }
  // PostgreSQL's figures per statement so far (PostgresProcess::StatementFigures); bad_config
  // without the postgres ledger or TrackStatements().
  Result<std::string> StatementFigures(int limit) const;
  // Applies one fault action (see Fault in scenario.h). Returns what was done, for faults.csv.
  Result<std::string> Apply(const Fault& fault);
  // SIGTERM to every running instance, HAProxy and rp-mock, then redis and PostgreSQL; an
  // instance that did not exit 0 is an error naming its log.
  Status Stop();
  // The CPU time of every part now (from /proc; a part whose process cannot be read is left out).
  SystemCpu SampleCpu() const;
  // SIGCONT to every instance: a load that ended before its server_resume (an abort) does not
  // leave a frozen server to verify or stop.
  void ThawAll();

  // Where clients go: HAProxy with several instances, else the one server.
  std::string server_url() const { return "http://127.0.0.1:" + std::to_string(server_port()); }
  int server_port() const;
  // Every instance's own port (their /metrics are scraped one by one).
  std::vector<int> instance_ports() const;
  // Every running instance's process id (under valgrind: valgrind's, which is the server's).
  std::vector<pid_t> instance_pids() const;
  std::string mock_url() const { return "http://127.0.0.1:" + std::to_string(mock_port_); }
  const Secrets& secrets() const { return secrets_; }
  const std::string& work_dir() const { return work_dir_; }
  // After Start(): rp-server's settings as its loader resolved them (`rp-server config --check`:
  // {"packet.ttl_s": 10, ...}, secrets left out), and the packet TTL among them.
  const nlohmann::json& server_settings() const { return server_settings_; }
  int64_t packet_ttl_s() const;
  // A failed run's ledger stays after the system is gone: PostgreSQL's cluster is not removed
  // (as root it lives outside work_dir, linked from work_dir/pg/data).
  void KeepLedger() {
    if (postgres_) postgres_->KeepCluster();
  }

 private:
  struct Instance {
    std::optional<ChildProcess> child;
    int port = 0;  // 0 until the first start picked one; kept across restarts.
  };
  Status StartDatabase();
  Status StartInstance(size_t i);
  // Signals instance i and waits for it; "exit N" or "" for the record.
  std::string StopInstance(size_t i, int signal);
  Result<std::string> RestartAll(bool kill);
  Result<std::string> ApplyInstanceFault(const Fault& f);
  Result<std::string> ApplyServerRestart(const Fault& f);
  Result<std::string> FreezeInstances(bool pause);
  Result<std::string> ApplyRedisFault(const Fault& f);
  Result<std::string> ApplyDatabaseFault(const Fault& f);
  std::vector<std::string> LedgerArgs() const;
  // Instance i's rp-server flags after the subcommand, and the environment every instance gets.
  std::vector<std::string> ServerArgs(size_t i) const;
  std::vector<std::string> ServerEnv() const;
  std::string server_config_path() const { return work_dir_ + "/server.yaml"; }
  Status WriteServerConfig();
  Status CheckServerConfig();
  std::string InstanceLog(size_t i) const;
  Status StartMock();
  Status PostSwitches(const std::string& json_array_or_object, bool reset);

  const Scenario& scenario_;
  std::string bin_dir_;
  std::string work_dir_;
  Secrets secrets_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<PostgresProcess> postgres_;
  bool track_statements_ = false;
  std::vector<std::string> server_env_;
  std::unique_ptr<HaproxyProcess> proxy_;
  std::optional<ChildProcess> mock_;
  std::vector<Instance> instances_;
  int mock_port_ = 0;
  std::string claim_scheme_;  // The scenario's, until a server_restart names another.
  nlohmann::json server_settings_ = nlohmann::json::object();
  ServerLaunch launch_;
};

// How long the money verification waits for expiries, refunds and transfers to settle: the
// packet TTL plus 45 s. The TTL is the started server's own (system may be null: --target), else
// the scenario's system.server packet.ttl_s, else 30 s.
int64_t SettleWaitS(const Scenario& scenario, const SystemUnderTest* system);

}  // namespace rp::sim
