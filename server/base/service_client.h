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

namespace rp::base {

struct ServiceReply {
  int status = 0;
  nlohmann::json body;  // Discarded (is_discarded()) when the body is not JSON.
};

class ServiceClient {
 public:
  // base_url like "http://127.0.0.1:9000". deadline_ms bounds connect, send and receive.
  ServiceClient(const std::string& base_url, int64_t deadline_ms);

  // Unavailable("service_unreachable") on connection errors and deadline expiry; any HTTP
  // status (including 5xx) is a reply for the caller to judge.
  Result<ServiceReply> Get(const std::string& path);
  Result<ServiceReply> Post(const std::string& path, const nlohmann::json& body);

 private:
  Result<ServiceReply> Wrap(const httplib::Result& r, const std::string& what);
  std::string base_url_;
  std::unique_ptr<httplib::Client> http_;
};

// The calling thread's client for base_url (created on first use, kept for the thread's life).
// For pool threads that call several services.
ServiceClient& ThreadLocalClient(const std::string& base_url, int64_t deadline_ms);

}  // namespace rp::base
