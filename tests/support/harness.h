// Test harness: a temporary directory, an rp-server (in-process App or a real child process)
// on a free loopback port, and a small HTTP client that speaks the API with tokens and
// signatures. Every test talks real HTTP over loopback.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/process.h"
#include "common/redis_process.h"
#include "server/app.h"
#include "server/base/config.h"

namespace rp::testing {

inline constexpr const char* kAuthSecret = "test-auth-secret-0123456789";
inline constexpr const char* kPaymentSecret = "test-payment-secret-0123456789";
inline constexpr const char* kRewardSecret = "test-reward-secret-0123456789";

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct Reply {
  int status = 0;  // 0 when the request failed at the transport level.
  nlohmann::json body;
  std::string raw;
};

// One keep-alive connection. Not thread-safe: one client per thread.
class Client {
 public:
  explicit Client(int port);
  Reply Get(const std::string& path, int64_t user_id);
  Reply Post(const std::string& path, const std::string& body, int64_t user_id);
  // Raw request with explicit headers, for negative tests.
  Reply Send(const std::string& method, const std::string& path, const std::string& body,
             const httplib::Headers& headers);
  // A signed payment callback.
  Reply Pay(const std::string& pay_order_no, const std::string& status, int64_t amount_cents);

  // Convenience flows; each asserts nothing, returns the reply.
  Reply SendPacket(int64_t sender, const std::string& order_no, int64_t total_cents, int64_t count,
                   const std::string& split = "random");
  Reply Claim(int64_t packet_id, int64_t user_id);

 private:
  Reply Wrap(const httplib::Result& r);
  httplib::Client http_;
};

std::string TokenFor(int64_t user_id);

// A config pointing at dir's ledger with test secrets and a free port.
base::ServerConfig TestConfig(const TempDir& dir);

// An rp-server in this process.
struct InProcessServer {
  explicit InProcessServer(base::ServerConfig config, const Clock* clock = nullptr);
  std::unique_ptr<App> app;
  int port = 0;
};

// A real rp-server child process (for kill -9 and SIGTERM tests).
class ServerProcess {
 public:
  // Starts build/bin/rp-server serve with the given extra args; fails the test if it does not
  // announce its port in time.
  ServerProcess(const TempDir& dir, const std::vector<std::string>& extra_args = {});
  int port() const { return port_; }
  ChildProcess& child() { return *child_; }

 private:
  std::optional<ChildProcess> child_;
  int port_ = 0;
};

// rp::RedisProcess started in the fixture's directory; fails the test if it does not start.
class RedisProcess : public rp::RedisProcess {
 public:
  explicit RedisProcess(const TempDir& dir);
};

// Every packet in the ledger file satisfies the conservation invariant (runs the checker).
::testing::AssertionResult LedgerConserves(const std::string& db_path);

}  // namespace rp::testing
