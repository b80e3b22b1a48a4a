#include "server/async/expiry_scanner.h"

#include <spdlog/spdlog.h>

#include "common/check.h"

namespace rp::async {

ExpiryScanner::ExpiryScanner(ledger::Engine* ledger, const Clock* clock, ScannerOptions options)
    : ledger_(ledger), clock_(clock), options_(options) {
  RP_CHECK(options_.interval_ms > 0 && options_.batch_max > 0);
}

ExpiryScanner::~ExpiryScanner() {
  Stop();
}

Result<core::ExpiryResult> ExpiryScanner::RunOnce() {
  core::ExpiryResult result;
  const int64_t now_ms = clock_->NowMs();
  Status s = ledger_->RunSync(
      [&](ledger::Tx& tx) { return core::ExpireDueTx(tx, now_ms, options_.batch_max, &result); });
  if (!s.ok()) return s;
  if (result.expired + result.closed > 0) {
    spdlog::info("expiry scan: {} expired ({} cents to refund), {} closed unpaid", result.expired,
                 result.refund_cents, result.closed);
  }
  return result;
}

void ExpiryScanner::Start() {
  RP_CHECK(!periodic_);
  periodic_ = std::make_unique<Periodic>("rp-expiry-scan", [this] {
    Result<core::ExpiryResult> r = RunOnce();
    if (!r.ok()) spdlog::warn("expiry scan failed: {}", r.status().ToString());
    // A full batch means more are due: go again at once instead of after a whole interval.
    const bool full = r.ok() && r->expired + r->closed >= options_.batch_max;
    return full ? int64_t{0} : options_.interval_ms;
  });
  periodic_->Start(options_.interval_ms);
}

void ExpiryScanner::Stop() {
  if (periodic_) periodic_->Stop();
}

}  // namespace rp::async
