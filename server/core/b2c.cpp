#include "server/core/b2c.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "common/check.h"
#include "server/core/state_machine.h"

namespace rp::core {

B2cService::B2cService(base::LedgerWriter* writer, base::RewardTcc* tcc, const Clock* clock,
                       B2cOptions options)
    : writer_(writer), tcc_(tcc), clock_(clock), options_(std::move(options)) {
  RP_CHECK(options_.mode == "sync" || options_.mode == "async" || options_.mode == "hybrid");
  flusher_ = std::make_unique<Periodic>([this] { return FlushAsync(); });
  flusher_->Start(options_.async_flush_ms);
  settler_ = std::make_unique<Periodic>([this] {
    Result<int64_t> n = SettleStuck(100);
    if (!n.ok()) spdlog::warn("subsidy settling failed: {}", n.status().ToString());
    return options_.settle_after_ms;
  });
  settler_->Start(options_.settle_after_ms);
}

B2cService::~B2cService() {
  Stop();
}

void B2cService::Stop() {
  if (settler_) settler_->Stop();
  if (flusher_) flusher_->Stop();
  FlushAsync();  // What was queued is written before we go.
}

B2cStats B2cService::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  B2cStats s = stats_;
  s.async_queue_depth = static_cast<int64_t>(pending_.size());
  return s;
}

Status B2cService::RecordGrab(const SubsidyGrant& grant) {
  if (options_.mode == "hybrid") return Status::Ok();
  if (options_.mode == "async") {
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(pending_.size()) < options_.async_queue_max) {
      pending_.push_back(grant);
      return Status::Ok();
    }
    // Queue full: fall through to a synchronous write — slower, never lost.
  }
  const int64_t now_ms = clock_->NowMs();
  Status s = writer_->RunSync(
      [&](sql::Db& db) { return RecordSubsidyTx(db, grant, "grab_sync", now_ms); });
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) ++stats_.recorded_sync;
  return s;
}

int64_t B2cService::FlushAsync() {
  std::vector<SubsidyGrant> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!pending_.empty() && static_cast<int>(batch.size()) < options_.async_batch_max) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
  }
  if (batch.empty()) return options_.async_flush_ms;
  const int64_t now_ms = clock_->NowMs();
  // One transaction for the whole batch: the point of peak shaving.
  Status s = writer_->RunSync([&](sql::Db& db) {
    for (const SubsidyGrant& g : batch) {
      Status st = RecordSubsidyTx(db, g, "grab_async", now_ms);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    spdlog::warn("async subsidy batch of {} failed ({}); requeued", batch.size(), s.ToString());
    for (auto& g : batch) pending_.push_front(std::move(g));
    return options_.async_flush_ms;
  }
  stats_.recorded_async += static_cast<int64_t>(batch.size());
  return pending_.empty() ? options_.async_flush_ms : 0;
}

Status B2cService::TryAndSettle(int64_t packet_id, const std::string& subsidy_id,
                                PacketRow* packet) {
  Status tried = tcc_->Try(subsidy_id, TccTxId(packet_id));
  if (tried.code() == Code::kUnavailable) return tried;
  const bool accepted = tried.ok();
  const int64_t now_ms = clock_->NowMs();
  Status s = writer_->RunSync(
      [&](sql::Db& db) { return SettleB2cTx(db, packet_id, accepted, now_ms, packet); });
  if (!s.ok()) {
    // The ledger could not take the outcome: release our freeze so the subsidy is not stranded.
    if (accepted) (void)tcc_->Cancel(subsidy_id, TccTxId(packet_id));
    return s;
  }
  if (!accepted) return Conflict("subsidy_refused", tried.message());
  return Status::Ok();
}

void B2cService::Confirm(int64_t packet_id, const std::string& subsidy_id) {
  if (!tcc_->Confirm(subsidy_id, TccTxId(packet_id)).ok()) return;  // The settler retries.
  const int64_t now_ms = clock_->NowMs();
  Status s =
      writer_->RunSync([&](sql::Db& db) { return ConfirmedSubsidyTx(db, subsidy_id, now_ms); });
  if (!s.ok()) spdlog::warn("subsidy {} confirmed but not recorded: {}", subsidy_id, s.ToString());
}

Result<B2cSend> B2cService::Send(const SendRequest& req, const SubsidyGrant& grant,
                                 int64_t sender_id) {
  B2cSend out;
  const int64_t now_ms = clock_->NowMs();
  Status s = writer_->RunSync([&](sql::Db& db) {
    return BeginB2cSendTx(db, req, grant, sender_id, options_.share_cap_cents, now_ms,
                          options_.ttl_ms, &out);
  });
  if (!s.ok()) return s;
  const int64_t packet_id = out.send.packet.packet_id;
  if (out.subsidy_state == subsidy_state::kTrying) {
    s = TryAndSettle(packet_id, grant.subsidy_id, &out.send.packet);
    if (!s.ok()) return s;
    out.subsidy_state = std::string(subsidy_state::kConfirming);
  }
  if (out.subsidy_state == subsidy_state::kConfirming) Confirm(packet_id, grant.subsidy_id);
  if (out.subsidy_state == subsidy_state::kReleased) {
    return Conflict("subsidy_refused", "the reward service refused this subsidy");
  }
  return out;
}

Result<int64_t> B2cService::SettleStuck(int limit) {
  const int64_t before_ms = clock_->NowMs() - options_.settle_after_ms;
  std::vector<SubsidyRow> trying, confirming;
  Status s = writer_->RunSync([&](sql::Db& db) {
    trying.clear();
    confirming.clear();
    Status st = ListSubsidiesInState(db, subsidy_state::kTrying, before_ms, limit, &trying);
    if (!st.ok()) return st;
    return ListSubsidiesInState(db, subsidy_state::kConfirming, before_ms, limit, &confirming);
  });
  if (!s.ok()) return s;
  int64_t moved = 0;
  for (const SubsidyRow& r : trying) {
    PacketRow packet;
    Status st = TryAndSettle(r.packet_id, r.grant.subsidy_id, &packet);
    if (st.ok()) Confirm(r.packet_id, r.grant.subsidy_id);
    moved += st.code() != Code::kUnavailable;
  }
  for (const SubsidyRow& r : confirming) {
    Confirm(r.packet_id, r.grant.subsidy_id);
    ++moved;
  }
  if (moved > 0) spdlog::info("subsidy settler re-drove {} hanging TCC(s)", moved);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.settled += moved;
  return moved;
}

}  // namespace rp::core
