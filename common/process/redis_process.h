// RedisProcess: a private redis-server (the real Debian binary, never a stand-in) on a free
// loopback port, in its own directory, without persistence, its log in that directory. Used by
// the tests and by rp-sim. Stop()/Start() restart it on the same port (the fault timeline's
// redis_stop / redis_start); Kill() is a crash (SIGKILL). Not thread-safe: one owner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/process/process.h"
#include "common/status.h"

namespace rp {

class RedisProcess {
 public:
  // Picks a free port; does not start the server.
  explicit RedisProcess(std::string dir, std::string binary = "/usr/bin/redis-server");
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // Starts it and waits until it accepts connections (at most 10 s). Unavailable otherwise.
  Status Start();
  void Kill();  // SIGKILL and reap; a no-op when not running.
  // Sends one command (RESP, on a connection of its own, 10 s timeout) and returns the first
  // line of the reply ("+OK"). RedisFailed when it is not running or does not answer, or
  // answers an error ("-ERR ...", quoted).
  Result<std::string> Command(const std::vector<std::string>& args);
  // The snapshot file SAVE writes and a start loads (in its directory).
  std::string snapshot_path() const { return dir_ + "/dump.rdb"; }
  bool running() const { return child_.has_value(); }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  std::string binary_;
  int port_ = 0;
  std::optional<ChildProcess> child_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close).
int FreeLoopbackPort();
// Whether something accepts a TCP connection on 127.0.0.1:port now (a server is up).
bool LoopbackAccepts(int port);

}  // namespace rp
