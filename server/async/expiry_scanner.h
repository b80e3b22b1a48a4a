// ExpiryScanner: the scheduled task that finishes packets time has run out on (what that means
// is core's: core/expiry.h). Each pass is one ledger transaction over at most batch_max
// packets, so a backlog is worked off at a bounded pace instead of in one giant write; a full
// pass runs again at once. Time comes from the injected Clock.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/periodic.h"
#include "common/status.h"
#include "server/async/options.h"
#include "server/core/expiry.h"
#include "server/ledger/engine.h"

namespace rp::async {

class ExpiryScanner {
 public:
  // ledger and clock are not owned and must outlive the scanner.
  ExpiryScanner(ledger::Engine* ledger, const Clock* clock, ScannerOptions options);
  ~ExpiryScanner();

  // One pass, synchronously. For tests and the periodic thread.
  Result<core::ExpiryResult> RunOnce();

  // Starts/stops the periodic thread. Stop() is idempotent and waits for a pass in progress.
  void Start();
  void Stop();

 private:
  ledger::Engine* ledger_;
  const Clock* clock_;
  const ScannerOptions options_;
  std::unique_ptr<Periodic> periodic_;
};

}  // namespace rp::async
