// ExpiryScanner: the scheduled task that finishes packets time has run out on.
//  - active packets past expires_at with money left -> expired, plus a refund order for the
//    remainder (refund row + outbox task, executed by the async service in a later issue);
//  - packets still awaiting payment past expires_at -> closed.
// Each pass is one ledger transaction over at most batch_max packets, so a backlog is worked
// off at a bounded pace instead of in one giant write. Time comes from the injected Clock.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/periodic.h"
#include "common/status.h"
#include "server/base/ledger_writer.h"

namespace rp::async {

struct ExpiryScannerOptions {
  int64_t interval_ms = 1000;
  int batch_max = 500;
};

struct ScanResult {
  int64_t expired = 0;
  int64_t closed = 0;
  int64_t refund_cents = 0;
};

class ExpiryScanner {
 public:
  // writer and clock are not owned and must outlive the scanner.
  ExpiryScanner(base::LedgerWriter* writer, const Clock* clock, ExpiryScannerOptions options);
  ~ExpiryScanner();

  // One pass, synchronously (through the writer). For tests and the periodic thread.
  Result<ScanResult> RunOnce();

  // Starts/stops the periodic thread. Stop() is idempotent and waits for a pass in progress.
  void Start();
  void Stop();

 private:
  base::LedgerWriter* writer_;
  const Clock* clock_;
  const ExpiryScannerOptions options_;
  std::unique_ptr<Periodic> periodic_;
};

}  // namespace rp::async
