#include "server/core/b2c.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "common/check.h"
#include "server/core/state_machine.h"

namespace rp::core {

namespace {

std::map<std::string, std::string> GrantFields(const SubsidyGrant& g) {
  return {{"subsidy_id", g.subsidy_id},
          {"user_id", std::to_string(g.user_id)},
          {"round", g.round},
          {"amount_cents", std::to_string(g.amount_cents)},
          {"expires_at_ms", std::to_string(g.expires_at_ms)}};
}

// False for an entry that is not a grant (then it is acked away: the reward service still has
// the subsidy, so using it records it).
bool GrantFromEntry(const base::StreamEntry& e, SubsidyGrant* g) {
  try {
    g->subsidy_id = e.fields.at("subsidy_id");
    g->user_id = std::stoll(e.fields.at("user_id"));
    g->round = e.fields.at("round");
    g->amount_cents = std::stoll(e.fields.at("amount_cents"));
    g->expires_at_ms = std::stoll(e.fields.at("expires_at_ms"));
  } catch (const std::exception&) {
    return false;
  }
  return !g->subsidy_id.empty() && g->user_id > 0 && g->amount_cents > 0;
}

}  // namespace

B2cService::B2cService(base::LedgerWriter* writer, base::RewardTcc* tcc, const Clock* clock,
                       B2cOptions options, base::RedisPool* redis, ClaimScheme* scheme)
    : writer_(writer), tcc_(tcc), scheme_(scheme), clock_(clock), options_(std::move(options)) {
  RP_CHECK(options_.mode == "sync" || options_.mode == "async" || options_.mode == "hybrid");
  if (redis != nullptr && options_.mode == "async") {
    grabs_ = std::make_unique<base::RedisStream>(redis, "rp:grabs", "rp-subsidy");
  }
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
  s.on_stream = grabs_ != nullptr;
  return s;
}

Status B2cService::RecordGrab(const SubsidyGrant& grant) {
  if (options_.mode == "hybrid") return Status::Ok();
  if (options_.mode == "async" && grabs_ != nullptr) {
    Result<bool> queued = grabs_->AddBounded(GrantFields(grant), options_.async_queue_max);
    std::lock_guard<std::mutex> lock(mu_);
    if (queued.ok() && *queued) {
      ++stats_.stream_published;
      return Status::Ok();
    }
    if (!queued.ok()) ++stats_.stream_fallbacks;  // Redis failed: the in-memory queue below.
    // A full stream falls through to the in-memory queue too, and past that to a sync write.
  }
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

Status B2cService::WriteBatch(const std::vector<SubsidyGrant>& batch) {
  const int64_t now_ms = clock_->NowMs();
  // One transaction for the whole batch: the point of peak shaving.
  return writer_->RunSync([&](sql::Db& db) {
    for (const SubsidyGrant& g : batch) {
      Status st = RecordSubsidyTx(db, g, "grab_async", now_ms);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
}

int64_t B2cService::FlushStream() {
  const std::string consumer = "flusher";
  Result<std::vector<base::StreamEntry>> entries =
      grabs_->Reclaim(consumer, options_.stream_reclaim_ms, options_.async_batch_max);
  if (entries.ok() && entries->empty()) entries = grabs_->Read(consumer, options_.async_batch_max);
  if (!entries.ok()) return 0;  // Redis down: grabs go to the in-memory queue meanwhile.
  std::vector<SubsidyGrant> batch;
  std::vector<std::string> ids;
  for (const base::StreamEntry& e : *entries) {
    SubsidyGrant g;
    if (GrantFromEntry(e, &g)) batch.push_back(std::move(g));
    ids.push_back(e.id);
  }
  if (!batch.empty()) {
    Status s = WriteBatch(batch);
    if (!s.ok()) {
      spdlog::warn("subsidy stream batch of {} failed ({}); re-read after {} ms", batch.size(),
                   s.ToString(), options_.stream_reclaim_ms);
      return 0;  // Not acked: re-claimed later.
    }
  }
  (void)grabs_->Ack(ids);  // A failed ack re-delivers; RecordSubsidyTx is idempotent.
  Result<int64_t> backlog = grabs_->Length();
  Result<int64_t> lag = grabs_->OldestAgeMs();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.recorded_async += static_cast<int64_t>(batch.size());
  if (backlog.ok() && lag.ok()) {
    stats_.stream_backlog = *backlog;
    stats_.stream_lag_ms = *lag;
  }
  return static_cast<int64_t>(ids.size());
}

int64_t B2cService::FlushAsync() {
  const bool stream_full =
      grabs_ != nullptr && FlushStream() >= static_cast<int64_t>(options_.async_batch_max);
  std::vector<SubsidyGrant> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!pending_.empty() && static_cast<int>(batch.size()) < options_.async_batch_max) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
  }
  if (batch.empty()) return stream_full ? 0 : options_.async_flush_ms;
  Status s = WriteBatch(batch);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    spdlog::warn("async subsidy batch of {} failed ({}); requeued", batch.size(), s.ToString());
    for (auto& g : batch) pending_.push_front(std::move(g));
    return options_.async_flush_ms;
  }
  stats_.recorded_async += static_cast<int64_t>(batch.size());
  return pending_.empty() && !stream_full ? options_.async_flush_ms : 0;
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
    Status st = BeginB2cSendTx(db, req, grant, sender_id, options_.share_cap_cents, now_ms,
                               options_.ttl_ms, &out);
    if (!st.ok() || out.send.replay || scheme_ == nullptr) return st;
    return scheme_->PrepareNewPacket(db, out.send.packet);
  });
  if (!s.ok()) return s;
  if (!out.send.replay && scheme_ != nullptr) scheme_->NewPacketCommitted(out.send.packet);
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
