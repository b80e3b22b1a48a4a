#include "common/process/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>

extern char** environ;

namespace rp {

namespace {

// Everything the child needs, prepared before fork: between fork and exec a child of a threaded
// parent may only make async-signal-safe calls (no allocation, no locks).
struct SpawnPlan {
  std::vector<char*> args;
  std::vector<char*> envp;
  const char* stderr_path = nullptr;
  int stdout_fd = -1;
  pid_t parent = 0;
  // Written by the spawner thread under its mutex.
  pid_t pid = -1;
  int fork_errno = 0;
  bool done = false;
};

[[noreturn]] void ExecChild(const SpawnPlan& plan) {
  // Die with the parent: a run killed hard (SIGKILL, a CI timeout) leaves nothing behind. The
  // parent-death signal fires when the *thread* that forked exits, hence the spawner thread.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != plan.parent) _exit(127);  // The parent died before prctl took effect.
  dup2(plan.stdout_fd, STDOUT_FILENO);
  if (plan.stderr_path != nullptr) {
    const int fd = open(plan.stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, STDERR_FILENO);
  }
  // The child starts with no blocked signals and default dispositions, whatever the parent
  // blocks (rp-sim blocks SIGINT/SIGTERM to handle them on one thread).
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(plan.args[0], plan.args.data(), plan.envp.data());
  _exit(127);
}

// One thread, alive as long as the process, that does every fork: children then die with the
// process (PR_SET_PDEATHSIG), not with whichever thread happened to start them (rp-sim restarts
// servers from its fault thread, which ends before the run does). Leaked on purpose: no
// destructor may run while another thread still spawns at exit.
class Spawner {
 public:
  static Spawner& Get() {
    static Spawner* spawner = new Spawner();
    return *spawner;
  }
  // fork + ExecChild on the spawner thread; the child's pid, or -1 with errno's text in *error.
  pid_t Fork(SpawnPlan& plan, std::string* error) {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return job_ == nullptr; });
    job_ = &plan;
    wake_.notify_all();
    done_.wait(lock, [&plan] { return plan.done; });
    if (plan.pid < 0) *error = std::strerror(plan.fork_errno);
    return plan.pid;
  }

 private:
  Spawner() {
    std::thread([this] { Loop(); }).detach();
  }
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return job_ != nullptr; });
      const pid_t pid = fork();
      if (pid == 0) ExecChild(*job_);
      job_->pid = pid;
      job_->fork_errno = errno;
      job_->done = true;
      job_ = nullptr;
      done_.notify_all();
      idle_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable wake_, done_, idle_;
  SpawnPlan* job_ = nullptr;
};

}  // namespace

Result<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env,
                                         const std::string& stderr_path) {
  if (argv.empty() || access(argv[0].c_str(), X_OK) != 0) {
    return Internal("spawn " + (argv.empty() ? std::string("()") : argv[0]) + ": " +
                    std::strerror(errno));
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  SpawnPlan plan;
  for (const std::string& a : argv) plan.args.push_back(const_cast<char*>(a.c_str()));
  plan.args.push_back(nullptr);
  // `env` overrides what we inherit: getenv() finds the first of two same-named entries, and a
  // secret exported in the caller's shell must not replace the one a test gives its server.
  auto overridden = [&env](std::string_view inherited) {
    const std::string_view name = inherited.substr(0, inherited.find('=') + 1);
    for (const std::string& e : env) {
      if (std::string_view(e).substr(0, name.size()) == name) return true;
    }
    return false;
  };
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env_strings.emplace_back(*e);
  }
  for (const std::string& e : env) env_strings.push_back(e);
  for (std::string& e : env_strings) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.stderr_path = stderr_path.empty() ? nullptr : stderr_path.c_str();
  plan.stdout_fd = fds[1];
  plan.parent = getpid();
  std::string error;
  const pid_t pid = Spawner::Get().Fork(plan, &error);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return Internal("spawn " + argv[0] + ": fork: " + error);
  }
  return ChildProcess(pid, fds[0]);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_), stdout_fd_(o.stdout_fd_), buffered_(std::move(o.buffered_)) {
  o.pid_ = -1;
  o.stdout_fd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    this->~ChildProcess();
    new (this) ChildProcess(std::move(o));
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

Result<std::string> ChildProcess::ReadLine(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0 || stdout_fd_ < 0) return Status(Error::kTimeout, "no line from child in time");
    pollfd p{stdout_fd_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = read(stdout_fd_, buf, sizeof(buf));
    if (got <= 0) return Status(Error::kClosed, "child closed stdout");
    buffered_.append(buf, static_cast<size_t>(got));
  }
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

Result<int> ChildProcess::Wait(int64_t timeout_ms) {
  if (pid_ <= 0) return Internal("no child");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(Error::kTimeout, "child did not exit in time");
    }
    // waitpid has no timeout; a short poll interval bounds the added latency.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Result<int> ParseListeningPort(const std::string& line) {
  size_t colon = line.rfind(':');
  if (line.find("listening on http://") == std::string::npos || colon == std::string::npos) {
    return Status(Error::kBadBanner, "unexpected first line: " + line);
  }
  int port = std::atoi(line.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return Status(Error::kBadBanner, "bad port in: " + line);
  return port;
}

}  // namespace rp
