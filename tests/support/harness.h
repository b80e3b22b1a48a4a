// Test harness: a temporary directory, an rp-server (in-process App or a real child process)
// on a free loopback port, and a small HTTP client that speaks the API with tokens and
// signatures. Every test talks real HTTP over loopback.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/api/api_client.h"
#include "common/clock.h"
#include "common/process/pg_process.h"
#include "common/process/process.h"
#include "common/process/redis_process.h"
#include "server/app/app.h"
#include "server/app/config.h"
#include "server/ledger/engine.h"
#include "tests/util/temp_dir.h"

namespace rp::testing {

inline constexpr const char* kAuthSecret = "test-auth-secret-0123456789";
inline constexpr const char* kPaymentSecret = "test-payment-secret-0123456789";
inline constexpr const char* kRewardSecret = "test-reward-secret-0123456789";

using Reply = api::Reply;

// The API client with the test secrets, on one keep-alive connection. Not thread-safe: one
// client per thread.
class Client : public api::Client {
 public:
  explicit Client(int port) : api::Client("127.0.0.1", port, {kAuthSecret, kPaymentSecret}) {}
  using api::Client::Send;
  // A raw request with explicit headers (no token added), for negative tests.
  Reply Send(const std::string& method, const std::string& path, const std::string& body,
             std::vector<std::pair<std::string, std::string>> headers) {
    return api::Client::Send({method, path, std::move(headers), body});
  }
};

std::string TokenFor(int64_t user_id);

// The ledger engine the tests of this process run on: SQLite, or PostgreSQL when the environment
// says RP_TEST_LEDGER=postgres (ctest registers the server-level suites both ways). On
// PostgreSQL one private server is started for the process and each ledger path gets a database
// of its own, the same one every time the path is named (a restart finds its data).
bool OnPostgres();
ledger::LedgerOptions LedgerFor(const std::string& path);
// The process's PostgreSQL server (nullptr on SQLite), for the tests that crash it.
PostgresProcess* TestPostgres();
// The command-line flags that point rp-server at that ledger.
std::vector<std::string> LedgerArgs(const std::string& path);
// Copies the ledger at from (no server may have it open) to a new ledger at to: the file on
// SQLite, a database made from it as a template on PostgreSQL.
[[nodiscard]] Status CopyLedger(const std::string& from, const std::string& to);
// A read-only engine over that ledger (for checks after a server stopped).
std::unique_ptr<ledger::Engine> OpenLedgerReadOnly(const std::string& path);

// A config pointing at dir's ledger with test secrets and a free port.
ServerConfig TestConfig(const TempDir& dir);

// An rp-server in this process. The config is checked as rp-server checks it (every key's
// range and the rules across keys) before the server starts.
struct InProcessServer {
  explicit InProcessServer(ServerConfig config, const Clock* clock = nullptr);
  std::unique_ptr<App> app;
  int port = 0;
};

// A real rp-server child process (for kill -9 and SIGTERM tests).
class ServerProcess {
 public:
  // Starts build/bin/rp-server serve on dir's ledger with the given extra args, on port (0: a
  // free one), logging to dir/log_name; fails the test if it does not announce its port in time.
  // Several instances may share one dir (and so one ledger) with different log names.
  ServerProcess(const TempDir& dir, const std::vector<std::string>& extra_args = {}, int port = 0,
                const std::string& log_name = "server.log");
  int port() const { return port_; }
  ChildProcess& child() { return *child_; }

 private:
  std::optional<ChildProcess> child_;
  int port_ = 0;
};

// rp-mock (payment, wallet, reward, social) as a child process in dir/mock, seed 7.
class MockProcess {
 public:
  explicit MockProcess(const TempDir& dir);
  const std::string& url() const { return url_; }
  // POST/GET on the mock's own API; a null json when it does not answer.
  nlohmann::json Post(const std::string& path, const nlohmann::json& body);
  nlohmann::json Get(const std::string& path);
  // GET of a text page (/metrics); empty when it does not answer 200.
  std::string GetText(const std::string& path);
  // Sets one failure switch / clears them all (docs/mocks.md).
  void Switch(const nlohmann::json& s) { Post("/admin/switches", s); }
  void ResetSwitches();

 private:
  std::optional<ChildProcess> child_;
  std::string url_;
};

// rp::RedisProcess started in the fixture's directory; fails the test if it does not start.
class RedisProcess : public rp::RedisProcess {
 public:
  explicit RedisProcess(const TempDir& dir);
};

// Every packet in the ledger satisfies the conservation invariant (runs the checker).
::testing::AssertionResult LedgerConserves(const std::string& db_path);

// Runs Debian's `promtool check metrics` on a /metrics text: an empty string when it is clean,
// promtool's complaints (or why it could not run) otherwise.
std::string PromtoolProblems(const std::string& metrics_text);

// Polls pred every 20 ms until it holds or max_ms pass (bounded); its last answer. For state the
// server's own threads move (async workers, breakers, rp-mock), never to hide a race.
bool Eventually(const std::function<bool()>& pred, int max_ms = 20000);

// Sends a packet of `count` shares of 100 cents from user 1 to `audience` and waits (bounded)
// until rp-mock's payment callback made it active; its id (0 if the send failed, which the
// caller's test then reports through the failed expectations).
int64_t PaidPacketThroughMock(Client& client, const std::string& order, int64_t count,
                              const std::string& audience);

// Sends a C2C packet from `sender` and pays it with a signed payment callback (the test plays
// the payment service): active when this returns. Its id (0 if the send failed; the failed
// expectations say why).
int64_t PaidPacket(Client& client, const std::string& order, int64_t total_cents, int64_t count,
                   int64_t sender = 1, const std::string& split = "random");

// Sends a C2C packet from user 1 whose payment the payment service (rp-mock) completes on its
// own, and waits (bounded) until its callback made the packet active. Its id, as PaidPacket.
int64_t PacketActivatedByPaymentService(Client& client, const std::string& order,
                                        int64_t total_cents, int64_t count);

}  // namespace rp::testing
