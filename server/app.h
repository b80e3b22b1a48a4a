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
  ~App();

  int port() const;
  // Graceful: stop accepting, finish in-flight requests, drain the ledger writer. Idempotent.
  void Stop();
  // Runs one expiry pass now (tests; the periodic scanner also runs on its own).
  Status ScanExpiredNow();

 private:
  struct Parts;
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Reads the ledger at db_path (read-only) and checks the conservation invariant.
// Used by `rp-server check`. Returns the formatted report; ok() tells whether it held.
Result<std::string> CheckLedger(const std::string& db_path, bool* ok);

}  // namespace rp
