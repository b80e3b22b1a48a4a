// ServiceClient: a blocking JSON client for one downstream service (payment, wallet, reward,
// social), with a hard per-call deadline. One keep-alive connection, TCP_NODELAY.
// Not thread-safe: give each worker thread its own client.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "server/base/breakers.h"

namespace rp::base {

struct ServiceReply {
  int status = 0;
  nlohmann::json body;  // Discarded (is_discarded()) when the body is not JSON.
};

class ServiceClient {
 public:
  // base_url like "http://127.0.0.1:9000". deadline_ms bounds connect, send and receive.
  // service names the downstream for its circuit breakers (breakers may be nullptr: none;
  // not owned, must outlive the client).
  ServiceClient(const std::string& base_url, int64_t deadline_ms, std::string service = "",
                Breakers* breakers = nullptr);

  // Unavailable("service_unreachable") on connection errors and deadline expiry; any HTTP
  // status (including 5xx) is a reply for the caller to judge. Unavailable("circuit_open"),
  // at once and without calling, while the endpoint's breaker is open: a transport failure,
  // a 5xx or a call slower than breaker.slow_call_ms counts against it.
  Result<ServiceReply> Get(const std::string& path);
  Result<ServiceReply> Post(const std::string& path, const nlohmann::json& body);

 private:
  Result<ServiceReply> Call(const std::string& method, const std::string& path,
                            const nlohmann::json* body);
  std::string base_url_;
  std::string service_;
  Breakers* breakers_;
  std::unique_ptr<httplib::Client> http_;
};

// The calling thread's client for (service, base_url) (created on first use, kept for the
// thread's life).
// For pool threads that call several services.
ServiceClient& ThreadLocalClient(const std::string& base_url, int64_t deadline_ms,
                                 const std::string& service = "", Breakers* breakers = nullptr);

}  // namespace rp::base
