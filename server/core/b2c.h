// B2cService: the B2C flows of the seed — recording rain grabs in the ledger in one of three
// issuance modes, sending a packet funded by a subsidy (TCC with the reward service), and
// settling TCCs a crash left hanging.
//
// Issuance modes (config subsidy.mode), the seed's "Large-Scale Subsidy Distribution":
//   sync   — every grab is written to the ledger before the user is answered (DB load = grab
//            rate: what overloaded the DB in the seed);
//   async  — grabs are queued and written in batches at our own pace (the seed's MQ peak
//            shaving). With a Redis pool the queue is the stream "rp:grabs" (consumer group,
//            acked after the batch commits, re-claimed after a crash); without one, or while
//            Redis fails, an in-memory queue. The record appears late, and a queue lost in a
//            crash or a flush only delays it: the reward service still has the subsidy and
//            using it writes it first;
//   hybrid — nothing is written at grab time; the subsidy is written when used, and the
//            subsidy list merges the reward service's tokens with the ledger (the seed's final
//            design).
// Thread-safe. Send() and SettleStuck() block on the reward service: call them from a
// BlockingPool thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/periodic.h"
#include "common/status.h"
#include "server/base/ledger_writer.h"
#include "server/base/redis_stream.h"
#include "server/base/reward_tcc.h"
#include "server/core/claim_scheme.h"
#include "server/core/subsidy.h"

namespace rp::core {

struct B2cOptions {
  std::string mode = "hybrid";  // sync | async | hybrid
  int64_t share_cap_cents = 20000;
  int64_t ttl_ms = 86400000;
  int async_queue_max = 100000;  // Beyond it a grab is written synchronously (slower, not lost).
  int async_batch_max = 500;
  int64_t async_flush_ms = 200;
  int64_t settle_after_ms = 5000;    // A TCC left trying/confirming this long is re-driven.
  int64_t stream_reclaim_ms = 5000;  // A grab read but not acked this long is read again.
};

struct B2cStats {
  int64_t recorded_sync = 0;
  int64_t recorded_async = 0;
  int64_t async_queue_depth = 0;
  int64_t settled = 0;
  int64_t stream_published = 0;  // Grabs queued on the Redis stream.
  int64_t stream_fallbacks = 0;  // Grabs queued in memory because Redis failed.
  int64_t stream_backlog = 0;    // As of the last flush.
  int64_t stream_lag_ms = 0;
  bool on_stream = false;
};

class B2cService {
 public:
  // Pointers are not owned and must outlive the service; redis may be null (no stream), scheme
  // may be null (no per-packet preparation). Starts the async flusher and the settling scanner.
  B2cService(base::LedgerWriter* writer, base::RewardTcc* tcc, const Clock* clock,
             B2cOptions options, base::RedisPool* redis = nullptr, ClaimScheme* scheme = nullptr);
  ~B2cService();
  void Stop();

  // A user grabbed a subsidy: record it as the mode says.
  Status RecordGrab(const SubsidyGrant& grant);

  // The whole TCC for one B2C send. Returns the packet (active) or the replayed original.
  // Conflict("subsidy_refused") when the reward service refuses the subsidy (the packet is then
  // closed); Unavailable when the reward service cannot be reached (the try is settled later,
  // and a replay of the same send picks it up).
  Result<B2cSend> Send(const SendRequest& req, const SubsidyGrant& grant, int64_t sender_id);

  // One pass of the settling scanner. Returns how many subsidies moved.
  Result<int64_t> SettleStuck(int limit);
  B2cStats Stats() const;
  const std::string& mode() const { return options_.mode; }

 private:
  Status TryAndSettle(int64_t packet_id, const std::string& subsidy_id, PacketRow* packet);
  void Confirm(int64_t packet_id, const std::string& subsidy_id);
  int64_t FlushAsync();
  // Writes one batch from the Redis stream; returns how many grabs it wrote.
  int64_t FlushStream();
  Status WriteBatch(const std::vector<SubsidyGrant>& batch);

  base::LedgerWriter* writer_;
  base::RewardTcc* tcc_;
  ClaimScheme* scheme_;
  const Clock* clock_;
  const B2cOptions options_;
  mutable std::mutex mu_;
  std::deque<SubsidyGrant> pending_;
  B2cStats stats_;
  std::unique_ptr<base::RedisStream> grabs_;  // Null: in-memory queue only.
  std::unique_ptr<Periodic> flusher_;
  std::unique_ptr<Periodic> settler_;
};

}  // namespace rp::core
