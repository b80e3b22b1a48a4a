#include "common/process/redis_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace rp {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool LoopbackAccepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

RedisProcess::RedisProcess(std::string dir, std::string binary)
    : dir_(std::move(dir)), binary_(std::move(binary)), port_(FreeLoopbackPort()) {
  std::filesystem::create_directories(dir_);
}

RedisProcess::~RedisProcess() {
  Kill();
}

Status RedisProcess::Start() {
  if (child_) return Status::Ok();
  auto child = ChildProcess::Spawn({binary_, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", dir_, "--logfile",
                                    dir_ + "/redis.log", "--loglevel", "notice"});
  if (!child.ok()) return child.status();
  child_.emplace(std::move(child.value()));
  // Readiness by connecting: its log goes to a file, so nothing can fill an unread pipe.
  for (int i = 0; i < 1000; ++i) {
    if (LoopbackAccepts(port_)) return Status::Ok();
    auto exited = child_->Wait(10);
    if (exited.ok()) {
      child_.reset();
      return Status(Error::kRedisFailed, "redis-server exited; see " + dir_ + "/redis.log");
    }
  }
  Kill();
  return Status(Error::kRedisFailed, "redis-server did not accept connections within 10 s");
}

Result<std::string> RedisProcess::Command(const std::vector<std::string>& args) {
  if (!child_) return Status(Error::kRedisFailed, "redis-server is not running");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status(Error::kRedisFailed, "socket()");
  timeval timeout{10, 0};  // SAVE of a test-sized data set takes milliseconds.
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) {
    request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  }
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[512];
    while (reply.find("\r\n") == std::string::npos && reply.size() < 4096) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  const size_t end = reply.find("\r\n");
  if (end == std::string::npos) {
    return Status(Error::kRedisFailed, "redis-server did not answer " + args.front());
  }
  reply.resize(end);
  if (reply[0] == '-') return Status(Error::kRedisFailed, args.front() + ": " + reply.substr(1));
  return reply;
}

void RedisProcess::Kill() {
  if (!child_) return;
  child_->Signal(SIGKILL);
  (void)child_->Wait(5000);  // After SIGKILL; the destructor reaps it if this timed out.
  child_.reset();
}

}  // namespace rp
