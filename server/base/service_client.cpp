#include "server/base/service_client.h"

namespace rp::base {

ServiceClient::ServiceClient(const std::string& base_url, int64_t deadline_ms)
    : base_url_(base_url), http_(std::make_unique<httplib::Client>(base_url)) {
  const time_t sec = static_cast<time_t>(deadline_ms / 1000);
  const time_t usec = static_cast<time_t>((deadline_ms % 1000) * 1000);
  http_->set_connection_timeout(sec, usec);
  http_->set_read_timeout(sec, usec);
  http_->set_write_timeout(sec, usec);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
}

Result<ServiceReply> ServiceClient::Wrap(const httplib::Result& r, const std::string& what) {
  if (!r) {
    return Status(Error::kServiceUnreachable,
                  what + " at " + base_url_ + ": " + httplib::to_string(r.error()));
  }
  return ServiceReply{r->status, nlohmann::json::parse(r->body, nullptr, false)};
}

Result<ServiceReply> ServiceClient::Get(const std::string& path) {
  return Wrap(http_->Get(path), "GET " + path);
}

Result<ServiceReply> ServiceClient::Post(const std::string& path, const nlohmann::json& body) {
  return Wrap(http_->Post(path, body.dump(), "application/json"), "POST " + path);
}

ServiceClient& ThreadLocalClient(const std::string& base_url, int64_t deadline_ms) {
  thread_local std::map<std::string, std::unique_ptr<ServiceClient>> clients;
  auto& slot = clients[base_url];
  if (!slot) slot = std::make_unique<ServiceClient>(base_url, deadline_ms);
  return *slot;
}

}  // namespace rp::base
