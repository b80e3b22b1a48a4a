#include "common/process/haproxy_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/process/redis_process.h"

namespace rp {
namespace {

// HAProxy needs two descriptors per connection (client and server side) and refuses to start
// when maxconn needs more than the process may open.
int MaxconnWithin(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return wanted;
  const int64_t fits = (static_cast<int64_t>(limit.rlim_cur) - 64) / 2;
  return static_cast<int>(std::max<int64_t>(16, std::min<int64_t>(wanted, fits)));
}

}  // namespace

HaproxyProcess::HaproxyProcess(std::string dir, std::vector<int> backend_ports,
                               HaproxyOptions options)
    : dir_(std::move(dir)),
      backends_(std::move(backend_ports)),
      options_(std::move(options)),
      port_(FreeLoopbackPort()) {}

HaproxyProcess::~HaproxyProcess() {
  Stop();
}

std::string HaproxyProcess::Config() const {
  const std::string check =
      "check inter " + std::to_string(options_.check_interval_ms) + "ms fall 2 rise 1";
  std::string servers;
  for (size_t i = 0; i < backends_.size(); ++i) {
    servers += "  server rp" + std::to_string(i) + " 127.0.0.1:" + std::to_string(backends_[i]) +
               " " + check + "\n";
  }
  return "global\n  maxconn " + std::to_string(MaxconnWithin(options_.maxconn)) +
         "\n\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n"
         "  timeout server 60s\n  option http-keep-alive\n  option redispatch\n  retries 2\n\n"
         "frontend api\n  bind 127.0.0.1:" +
         std::to_string(port_) +
         "\n  # Repeated slashes merged before routing (the server answers 404 to any spelling of "
         "a\n"
         "  # path but one), so //v1/packets/<id> reaches the instance <id> hashes to. regsub,\n"
         "  # not normalize-uri: that action is experimental in HAProxy 2.6.\n"
         "  http-request set-path %[path,regsub(/+,/,g)]\n"
         "  # Claims and reads of one packet go to one instance: /v1/packets/<id>...\n"
         "  acl per_packet path_reg ^/v1/packets/[0-9]+\n"
         "  use_backend by_packet if per_packet\n  default_backend spread\n\n"
         "backend by_packet\n  balance hash path,field(4,/)\n  hash-type consistent\n"
         "  option httpchk GET /healthz\n" +
         servers + "\nbackend spread\n  balance roundrobin\n  option httpchk GET /healthz\n" +
         servers;
}

Status HaproxyProcess::Start() {
  if (child_) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string cfg = dir_ + "/haproxy.cfg";
  std::ofstream(cfg) << Config();
  auto child = ChildProcess::Spawn({options_.binary, "-db", "-f", cfg}, {}, dir_ + "/haproxy.log");
  if (!child.ok()) return child.status();
  child_.emplace(std::move(child.value()));
  for (int i = 0; i < 1000; ++i) {
    if (LoopbackAccepts(port_)) return Status::Ok();
    if (child_->Wait(10).ok()) {
      child_.reset();
      return Status(Error::kStartFailed, "haproxy exited; see " + dir_ + "/haproxy.log");
    }
  }
  Stop();
  return Status(Error::kStartFailed, "haproxy did not accept connections within 10 s");
}

void HaproxyProcess::Stop() {
  if (!child_) return;
  child_->Signal(SIGTERM);
  if (!child_->Wait(5000).ok()) {
    child_->Signal(SIGKILL);
    (void)child_->Wait(5000);  // After SIGKILL; the destructor reaps it if this timed out.
  }
  child_.reset();
}

}  // namespace rp
