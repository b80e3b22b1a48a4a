#include "server/async/expiry_scanner.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "common/check.h"
#include "server/core/ledger_tx.h"
#include "server/core/state_machine.h"

namespace rp::async {
namespace {

struct Due {
  int64_t packet_id;
  std::string status;
  int64_t remaining_cents;
  std::string subsidy_id;  // B2C: the remainder goes back to this subsidy's round budget.
};

Status CollectDue(sql::Db& db, int64_t now_ms, int limit, std::vector<Due>* due) {
  sql::Stmt& q = db.Prepare(
      "SELECT packet_id, status, total_cents - claimed_cents, COALESCE(subsidy_id, '') "
      "FROM packets "
      "WHERE status IN ('active', 'awaiting_payment') AND expires_at_ms <= ? "
      "ORDER BY expires_at_ms LIMIT ?");
  q.Bind(1, now_ms).Bind(2, limit);
  while (q.Step()) due->push_back({q.Int(0), q.Text(1), q.Int(2), q.Text(3)});
  return q.status();
}

Status ExpireWithRefund(sql::Db& db, const Due& d, int64_t now_ms) {
  using namespace core;
  RP_CHECK(d.remaining_cents > 0);  // An active packet with nothing left would be finished.
  Status s =
      MovePacket(db, d.packet_id, packet_state::kActive, packet_state::kExpired, "ttl", now_ms);
  if (!s.ok()) return s;
  return OrderRefund(db, d.packet_id, d.remaining_cents, d.subsidy_id, "ttl", now_ms);
}

}  // namespace

ExpiryScanner::ExpiryScanner(base::LedgerWriter* writer, const Clock* clock,
                             ExpiryScannerOptions options)
    : writer_(writer), clock_(clock), options_(options) {
  RP_CHECK(options_.interval_ms > 0 && options_.batch_max > 0);
}

ExpiryScanner::~ExpiryScanner() {
  Stop();
}

Result<ScanResult> ExpiryScanner::RunOnce() {
  ScanResult result;
  const int64_t now_ms = clock_->NowMs();
  Status s = writer_->RunSync([&](sql::Db& db) {
    result = ScanResult{};
    std::vector<Due> due;
    Status st = CollectDue(db, now_ms, options_.batch_max, &due);
    if (!st.ok()) return st;
    for (const Due& d : due) {
      if (d.status == core::packet_state::kActive) {
        st = ExpireWithRefund(db, d, now_ms);
        result.expired += 1;
        result.refund_cents += d.remaining_cents;
      } else {
        st = core::MovePacket(db, d.packet_id, core::packet_state::kAwaitingPayment,
                              core::packet_state::kClosed, "unpaid_timeout", now_ms);
        result.closed += 1;
      }
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (result.expired + result.closed > 0) {
    spdlog::info("expiry scan: {} expired ({} cents to refund), {} closed unpaid", result.expired,
                 result.refund_cents, result.closed);
  }
  return result;
}

void ExpiryScanner::Start() {
  RP_CHECK(!periodic_);
  periodic_ = std::make_unique<Periodic>([this] {
    Result<ScanResult> r = RunOnce();
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
