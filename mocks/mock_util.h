// Shared plumbing of the mock services: a durable store (one SQLite file per service, one
// connection behind a mutex — a test double values simple correctness over throughput) and JSON
// replies in the project's error format.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/sqlite/sqlite.h"
#include "common/status.h"

namespace rp::mock {

class Store {
 public:
  // Opens (creating) path and runs schema (idempotent CREATE ... IF NOT EXISTS statements).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const std::string& schema);
  // Runs fn in one IMMEDIATE transaction; non-OK rolls it back.
  Status Tx(const std::function<Status(sql::Db&)>& fn);

 private:
  explicit Store(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<sql::Db> db_;
};

inline void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

inline void ReplyError(httplib::Response& res, int status, const std::string& code,
                       const std::string& message) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

// Wraps a handler of one service endpoint with that endpoint's switch (latency, down, error,
// timeout). Provided by the mock server to each service's Register().
using Guard = std::function<httplib::Server::Handler(const std::string& endpoint,
                                                     httplib::Server::Handler handler)>;

// Status -> HTTP reply (400/404/409/410/503/500 by code).
void ReplyStatus(httplib::Response& res, const Status& s);

// Parses a JSON object body; on failure replies 400 and returns false.
bool ParseBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* out);

}  // namespace rp::mock
