// ChildProcess: start a program (rp-server, rp-mock, redis-server), read the line it announces
// itself with, signal it, and reap it. Used by the tests, the benchmarks and the simulator.
// Not thread-safe; one owner. The destructor kills (SIGKILL) and reaps a child still running.
// A child also dies (SIGKILL) when this process does, however it ends — unless it changes its
// user (the kernel then forgets the parent-death signal; PostgresProcess has setpriv set it
// again) or forks itself away.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with argv and the current environment plus `env` ("K=V" entries,
  // which replace inherited ones of the same name).
  // stdout is a pipe readable with ReadLine(); stderr goes to stderr_path (or is inherited when
  // empty).
  static Result<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env = {},
                                    const std::string& stderr_path = "");
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  // Reads one line of the child's stdout, waiting at most timeout_ms. Unavailable on timeout or
  // when the child closed stdout.
  Result<std::string> ReadLine(int64_t timeout_ms);

  // Sends a signal. No-op once reaped.
  void Signal(int sig);
  // Waits for exit, at most timeout_ms; returns the exit code, or 128+signal when killed.
  // Unavailable on timeout.
  Result<int> Wait(int64_t timeout_ms);
  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
};

// "http://127.0.0.1:<port>" -> port, from a line "... listening on http://127.0.0.1:<port>".
Result<int> ParseListeningPort(const std::string& line);

}  // namespace rp
