// SystemUnderTest: the processes a scenario runs against when rp-sim has no --target — a private
// redis-server (when the scenario asks for one), rp-mock and rp-server, in a temporary directory
// on free loopback ports, with fresh random secrets — and the fault actions the timeline applies
// to them. rp-server restarts on the same port and ledger file, so clients reconnect to it.
// Methods are called from the orchestrating thread and the fault thread, never concurrently
// (the fault thread owns it during the load). The destructor stops whatever still runs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/process.h"
#include "common/redis_process.h"
#include "common/status.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

struct Secrets {
  std::string auth;
  std::string payment;
  std::string reward;
};

// Every process a SystemUnderTest started and has not stopped, so that rp-sim, interrupted by
// SIGINT/SIGTERM, can take them down with it instead of leaving them running. Thread-safe.
void KillStartedProcesses();

class SystemUnderTest {
 public:
  // bin_dir holds rp-server and rp-mock; work_dir receives the ledger, mock data and logs.
  SystemUnderTest(const Scenario& scenario, std::string bin_dir, std::string work_dir);
  ~SystemUnderTest();

  // Starts redis (if asked), rp-mock (with the scenario's initial switches) and rp-server.
  Status Start();
  // Applies one fault action (see Fault in scenario.h). Returns what was done, for faults.csv.
  Result<std::string> Apply(const Fault& fault);
  // SIGTERM to rp-server and rp-mock, then redis; returns the server's exit status as a Status.
  Status Stop();

  std::string server_url() const { return "http://127.0.0.1:" + std::to_string(server_port_); }
  int server_port() const { return server_port_; }
  std::string mock_url() const { return "http://127.0.0.1:" + std::to_string(mock_port_); }
  std::string ledger_path() const { return work_dir_ + "/ledger.db"; }
  const Secrets& secrets() const { return secrets_; }

 private:
  Status StartServer();
  Status StartMock();
  Status PostSwitches(const std::string& json_array_or_object, bool reset);

  const Scenario& scenario_;
  std::string bin_dir_;
  std::string work_dir_;
  Secrets secrets_;
  std::unique_ptr<RedisProcess> redis_;
  std::optional<ChildProcess> mock_;
  std::optional<ChildProcess> server_;
  int server_port_ = 0;
  int mock_port_ = 0;
};

}  // namespace rp::sim
