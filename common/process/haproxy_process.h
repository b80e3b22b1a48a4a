// HaproxyProcess: a private HAProxy (Debian's 2.6) in front of several rp-server instances, with
// a generated config: every request about one packet (/v1/packets/{id}..., claims and reads)
// goes to one instance by a consistent hash of the packet id, so that instance's in-process
// caches and locks see all of that packet's claims; everything else (sends, callbacks, B2C) is
// spread round-robin. Instances are health-checked on /healthz: one that dies loses its packets
// to the others within a check or two, and the database's row lock keeps claims correct while
// two instances briefly serve one packet. Not thread-safe: one owner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/process/process.h"
#include "common/status.h"

namespace rp {

struct HaproxyOptions {
  std::string binary = "/usr/sbin/haproxy";
  int check_interval_ms = 300;
  int maxconn = 20000;  // Lowered to what the descriptor limit allows.
};

class HaproxyProcess {
 public:
  // backends: the instances' ports on 127.0.0.1. Picks a free port for the front.
  HaproxyProcess(std::string dir, std::vector<int> backend_ports, HaproxyOptions options = {});
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  // Writes the config and starts HAProxy; waits until it accepts connections (10 s).
  Status Start();
  void Stop();
  int port() const { return port_; }
  pid_t pid() const { return child_ ? child_->pid() : -1; }  // -1 when not running.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The generated configuration (for docs and the curious).
  std::string Config() const;

 private:
  std::string dir_;
  std::vector<int> backends_;
  HaproxyOptions options_;
  int port_ = 0;
  std::optional<ChildProcess> child_;
};

}  // namespace rp
