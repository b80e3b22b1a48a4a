// Reconciliation (the seed's Reconciliation Service, hourly there; interval in config here):
// the ledger compared with the payment service's and the wallet's own records, flow by flow
// (C2C paid -> transferred -> refunded), plus the ledger's conservation invariant. Every
// discrepancy is named (see conservation::Reconcile). Thread-safe: Run() uses its own clients.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/blocking_pool.h"
#include "common/clock.h"
#include "common/conservation.h"
#include "common/metrics/metrics.h"
#include "common/options.h"
#include "common/periodic.h"
#include "common/status.h"
#include "server/base/degrade.h"
#include "server/ledger/engine.h"

namespace rp::recon {

// Config section `recon`.
struct ReconConfig {
  int64_t interval_ms = 60000;  // 0: no periodic reconciliation in the server.
};
void Declare(options::Registry& r, ReconConfig* o);

struct ReconOptions {
  std::string payment_url;
  std::string wallet_url;
  std::string reward_url;  // Empty: no B2C issuance comparison.
  int64_t call_deadline_ms = 5000;
  int64_t since_ms = 0;  // Only packets created at or after this (and orphans, always).
};

// The latest `since` a reconciliation window may start at, in unix seconds (9999-12-31
// 23:59:59 UTC): later is no date, and since * 1000 (milliseconds) must not overflow int64.
// /admin/recon?since= and `rp-server recon --since` refuse more.
inline constexpr int64_t kSinceSecondsMax = 253'402'300'799;

struct ReconResult {
  conservation::Report report;
  conservation::ReconTotals totals;
  int64_t at_ms = 0;
  bool clean() const { return report.ok(); }
};

// One reconciliation. Unavailable when a service's records cannot be fetched.
Result<ReconResult> Run(ledger::Engine& ledger, const ReconOptions& options, const Clock& clock);

// Fetches the external side (GET /pay/export, /wallet/export, /reward/export).
Result<conservation::ExternalRecords> FetchExternal(const ReconOptions& options);

// Narrows a ledger + external pair to packets created since since_ms (orphans are kept).
void RestrictToWindow(int64_t since_ms, conservation::LedgerSnapshot* ledger,
                      conservation::ExternalRecords* external);

nlohmann::json ToJson(const ReconResult& result);

// On-demand reconciliations (GET /admin/recon) on a bounded pool, so their blocking calls to
// the services never run on an HTTP thread. Thread-safe; pointers not owned.
class ReconRunner {
 public:
  ReconRunner(ledger::Engine* ledger, ReconOptions options, const Clock* clock, BlockingPool* pool)
      : ledger_(ledger), options_(std::move(options)), clock_(clock), pool_(pool) {}
  // Reconciles packets created at or after since_ms (0: all); done gets the result once.
  void Run(int64_t since_ms, std::function<void(Result<ReconResult>)> done);

 private:
  ledger::Engine* ledger_;
  const ReconOptions options_;
  const Clock* clock_;
  BlockingPool* pool_;
};

// Runs Run() every interval_ms on its own thread; the last result is kept for /metrics and
// GET /admin/recon.
class PeriodicRecon {
 public:
  // ledger, clock and degrader (may be null: never skipped) are not owned and must outlive this.
  PeriodicRecon(ledger::Engine* ledger, ReconOptions options, const Clock* clock,
                int64_t interval_ms, base::Degrader* degrader = nullptr);
  ~PeriodicRecon();
  void Start();
  void Stop();
  std::optional<ReconResult> Last() const;
  // The last result's drift and discrepancies in /metrics.
  void RegisterMetrics(metrics::Hub& hub) const;

 private:
  ledger::Engine* ledger_;
  const ReconOptions options_;
  const Clock* clock_;
  const int64_t interval_ms_;
  base::Degrader* const degrader_;
  mutable std::mutex mu_;
  std::optional<ReconResult> last_;
  std::unique_ptr<Periodic> periodic_;
};

}  // namespace rp::recon
