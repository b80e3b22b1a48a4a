// B2cService, issuance: recording grabs in the ledger as subsidy.mode says, and the async
// mode's queues (a Redis stream, or memory) worked off in batches at our own pace.
#include <spdlog/spdlog.h>

#include <map>

#include "server/core/b2c.h"

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

B2cStats B2cService::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  B2cStats s = stats_;
  s.async_queue_depth = static_cast<int64_t>(pending_.size());
  s.on_stream = grabs_ != nullptr;
  return s;
}

void B2cService::RegisterMetrics(metrics::Hub& hub) const {
  if (grabs_ == nullptr) return;
  hub.AddCollector([this](metrics::Writer& w) {
    const B2cStats b = Stats();
    base::WriteStreamMetrics(
        w, "grabs", {b.stream_backlog, b.stream_lag_ms, b.stream_published, b.stream_fallbacks});
  });
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
  Status s = ledger_->RunSync(
      [&](ledger::Tx& tx) { return RecordSubsidyTx(tx, grant, "grab_sync", now_ms); });
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) ++stats_.recorded_sync;
  return s;
}

Status B2cService::WriteBatch(const std::vector<SubsidyGrant>& batch) {
  const int64_t now_ms = clock_->NowMs();
  // One transaction for the whole batch: the point of peak shaving.
  return ledger_->RunSync([&](ledger::Tx& tx) {
    for (const SubsidyGrant& g : batch) {
      Status st = RecordSubsidyTx(tx, g, "grab_async", now_ms);
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

}  // namespace rp::core
