// App: one running rp-server, wired from a ServerConfig — ledger engine, claim scheme, core
// services, async workers and scanners, reconciliation, metrics and the HTTP gateway. main() and
// the in-process tests both build servers through it, so tests run the production wiring.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "server/app/config.h"
#include "server/ledger/options.h"

namespace rp {

class App {
 public:
  // clock is not owned; nullptr means the system clock. config must have been loaded and
  // validated (LoadServerConfig).
  static Result<std::unique_ptr<App>> Start(ServerConfig config, const Clock* clock = nullptr);
  // The async workers alone (`rp-server worker`): ledger engine, task queue, AsyncService and
  // the expiry scanner, no HTTP. Needs wallet/payment URLs.
  static Result<std::unique_ptr<App>> StartWorker(ServerConfig config);
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

// Reconciles the ledger at config.ledger.path with the services in config. Returns the JSON
// report; *clean tells whether it found nothing. bad_config when the file is not a ledger.
Result<std::string> ReconcileLedger(const ServerConfig& config, int64_t since_ms, bool* clean);

// Reads the ledger (read-only) and checks the conservation invariant. Used by `rp-server
// check`. Returns the formatted report; *ok tells whether it held. bad_config when the file or
// database is missing or not a ledger.
Result<std::string> CheckLedger(const ledger::LedgerOptions& ledger, bool* ok);

}  // namespace rp
