// The servers rp-bench measures: one Release rp-server per (ledger engine, claim scheme), each
// on its own ledger (a SQLite file, or a database of one private PostgreSQL), with a private
// redis-server for the Redis schemes. Not thread-safe: built and torn down by main().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/api/api_client.h"
#include "common/ledger_engines.h"
#include "common/process/pg_process.h"
#include "common/process/process.h"
#include "common/process/redis_process.h"

namespace rp::bench {

inline constexpr const char* kAuthSecret = "bench-auth-secret-0123456789";
inline constexpr const char* kPaymentSecret = "bench-payment-secret-0123456789";
inline const api::Credentials kCredentials{kAuthSecret, kPaymentSecret};

// What the command line chose beyond Google Benchmark's own flags.
struct FleetOptions {
  std::vector<std::string> ledgers = LedgerEngineNames();
  int pg_pool_size = 8;  // ledger.pool_size of every PostgreSQL-backed server.
  PostgresOptions postgres;
  std::vector<std::string> server_env;  // "K=V" entries added to every rp-server's environment.
};

// Reads and removes --ledger=sqlite|postgres|all, --pg-pool-size=N, --pg-commit-delay-us=N,
// --pg-commit-siblings=N and --server-env=K=V (repeatable) from argv (before benchmark::Initialize
// sees them). On a bad value prints why and returns nullopt.
std::optional<FleetOptions> ParseFleetFlags(int* argc, char** argv);

// Prints why, stops every server of the running fleet (a benchmark abandoned half-way must not
// leave servers behind to skew the next run) and exits 1.
[[noreturn]] void Die(const std::string& why);

struct Server {
  std::string dir;
  std::optional<ChildProcess> child;
  std::unique_ptr<RedisProcess> redis;
  int port = 0;
};

class Fleet {
 public:
  explicit Fleet(FleetOptions options);
  ~Fleet();  // Stops every server (SIGTERM, then waits) and removes their files.
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts every (ledger, scheme) server. Die()s when one cannot start: a benchmark of a
  // server that is not there would measure nothing. At most one Fleet is started at a time.
  void Start(const std::vector<std::string>& schemes);
  Server& at(const std::string& ledger, const std::string& scheme) {
    return *servers_.at(ledger + "/" + scheme);
  }
  const FleetOptions& options() const { return options_; }

 private:
  friend void Die(const std::string& why);
  void StartServer(const std::string& ledger, const std::string& scheme);
  std::vector<std::string> ServerEnv() const;
  void StopAll();

  FleetOptions options_;
  std::string dir_;
  std::unique_ptr<PostgresProcess> postgres_;  // Only when a ledger is postgres.
  std::map<std::string, std::unique_ptr<Server>> servers_;
};

// "db_lock+limits" is db_lock with rate-limit rules loaded that the benchmarks never hit.
inline constexpr const char* kWithLimits = "+limits";
inline std::string BaseScheme(const std::string& scheme) {
  const size_t plus = scheme.find('+');
  return plus == std::string::npos ? scheme : scheme.substr(0, plus);
}

// Sends and pays a packet of `count` shares of 100 cents; returns its id. Die()s on failure.
int64_t ActivePacket(int port, int64_t count);

// The sum of a metric over its label sets in the server's /metrics (0 when absent).
double MetricValue(int port, const std::string& name);

}  // namespace rp::bench
