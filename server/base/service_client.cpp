#include "server/base/service_client.h"

#include "common/clock.h"

namespace rp::base {

ServiceClient::ServiceClient(const std::string& base_url, int64_t deadline_ms, std::string service,
                             Breakers* breakers)
    : base_url_(base_url),
      service_(service.empty() ? base_url : std::move(service)),
      breakers_(breakers),
      http_(std::make_unique<httplib::Client>(base_url)) {
  const time_t sec = static_cast<time_t>(deadline_ms / 1000);
  const time_t usec = static_cast<time_t>((deadline_ms % 1000) * 1000);
  http_->set_connection_timeout(sec, usec);
  http_->set_read_timeout(sec, usec);
  http_->set_write_timeout(sec, usec);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
}

Result<ServiceReply> ServiceClient::Call(const std::string& method, const std::string& path,
                                         const nlohmann::json* body) {
  const std::string what = method + " " + path;
  CircuitBreaker* breaker = breakers_ != nullptr ? breakers_->For(service_, path) : nullptr;
  if (breaker != nullptr && !breaker->Allow()) {
    return Status(Error::kCircuitOpen,
                  what + " at " + service_ + ": circuit open after recent failures, not called");
  }
  const int64_t start_ns = MonotonicNs();
  httplib::Result r =
      body == nullptr ? http_->Get(path) : http_->Post(path, body->dump(), "application/json");
  if (breaker != nullptr)
    breaker->Record(r && r->status < 500, (MonotonicNs() - start_ns) / 1000000);
  if (!r) {
    return Status(Error::kServiceUnreachable,
                  what + " at " + base_url_ + ": " + httplib::to_string(r.error()));
  }
  return ServiceReply{r->status, nlohmann::json::parse(r->body, nullptr, false)};
}

Result<ServiceReply> ServiceClient::Get(const std::string& path) {
  return Call("GET", path, nullptr);
}

Result<ServiceReply> ServiceClient::Post(const std::string& path, const nlohmann::json& body) {
  return Call("POST", path, &body);
}

ServiceClient& ThreadLocalClient(const std::string& base_url, int64_t deadline_ms,
                                 const std::string& service, Breakers* breakers) {
  // By service too: one rp-mock URL may serve all four, and a client's breakers are labelled
  // by its service.
  thread_local std::map<std::string, std::unique_ptr<ServiceClient>> clients;
  auto& slot = clients[service + " " + base_url];
  if (!slot) slot = std::make_unique<ServiceClient>(base_url, deadline_ms, service, breakers);
  return *slot;
}

}  // namespace rp::base
