// App: one running rp-server, wired from a ServerConfig — ledger writer, read pool, claim
// scheme, expiry scanner, metrics and the HTTP gateway. main() and the in-process tests both
// build servers through it, so they run the same wiring.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "server/base/config.h"

namespace rp {

class App {
 public:
  // clock is not owned; nullptr means the system clock.
  static Result<std::unique_ptr<App>> Start(base::ServerConfig config,
                                            const Clock* clock = nullptr);
  // The async workers alone (`rp-server worker`): ledger writer, task queue, AsyncService and
  // the expiry scanner, no HTTP. Needs wallet/payment URLs.
  static Result<std::unique_ptr<App>> StartWorker(base::ServerConfig config);
  ~App();

  int port() const;  // 0 for a worker.
  // Graceful: stop accepting, finish in-flight requests, drain the ledger writer. Idempotent.
  void Stop();
  // Runs one expiry pass now (tests; the periodic scanner also runs on its own).
  Status ScanExpiredNow();

  struct Parts;  // Defined in app.cpp; public only so its helpers there can name it.

 private:
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Reconciles the ledger at db_path with the services in config (payment_url, wallet_url).
// Returns the JSON report; *clean tells whether it found nothing.
Result<std::string> ReconcileLedger(const base::ServerConfig& config, int64_t since_ms,
                                    bool* clean);

// Reads the ledger at db_path (read-only) and checks the conservation invariant.
// Used by `rp-server check`. Returns the formatted report; ok() tells whether it held.
Result<std::string> CheckLedger(const std::string& db_path, bool* ok);

}  // namespace rp
