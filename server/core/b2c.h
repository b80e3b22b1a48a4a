// B2cService: the B2C flows of the seed — rain grabs (through the reward service, recorded in
// the ledger in one of three issuance modes), the merged subsidy list, sending a packet funded
// by a subsidy (TCC with the reward service), and settling TCCs a crash left hanging.
//
// Issuance modes (subsidy.mode), the seed's "Large-Scale Subsidy Distribution":
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
// Thread-safe. The public calls run on the reward pool (they block on the reward service) and
// answer through `done`, exactly once, on that pool's thread (or at once when refused).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/blocking_pool.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/periodic.h"
#include "common/status.h"
#include "server/base/breakers.h"
#include "server/base/degrade.h"
#include "server/base/redis_client.h"
#include "server/base/redis_stream.h"
#include "server/base/reward_tcc.h"
#include "server/core/claim_scheme.h"
#include "server/core/options.h"
#include "server/core/subsidy.h"
#include "server/ledger/engine.h"

namespace rp::core {

struct B2cOptions {
  std::string mode = "hybrid";  // sync | async | hybrid
  std::string reward_url;
  std::string reward_secret;  // Verifies subsidy tokens.
  int64_t call_deadline_ms = 2000;
  base::Breakers* breakers = nullptr;
  base::Degrader* degrader = nullptr;  // The app's; not owned. Null: never degraded by SLO.
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

// A grab the reward service granted: its reply passed through (the token, the amount, ...).
struct GrabOutcome {
  bool created = false;  // false: the user's subsidy of this round, granted before.
  nlohmann::json reward_reply;
};

// One subsidy in the merged list.
struct SubsidyItem {
  std::string subsidy_id;
  std::string round;
  int64_t amount_cents = 0;
  std::string token;  // Empty for ledger-only records.
  int64_t expires_at_s = 0;
  std::string state;  // The ledger's state once it has the subsidy, else the service's.
  bool in_ledger = false;
  int64_t packet_id = 0;  // 0 when unused.
};
struct SubsidyList {
  std::vector<SubsidyItem> items;
  bool degraded = false;  // The reward service did not answer: ledger records only.
};

class B2cService {
 public:
  // Pointers are not owned and must outlive the service; redis may be null (no stream), scheme
  // may be null (no per-packet preparation). Starts the async flusher and the settling scanner.
  B2cService(ledger::Engine* ledger, BlockingPool* reward_pool, const Clock* clock,
             B2cOptions options, base::RedisPool* redis = nullptr, ClaimScheme* scheme = nullptr);
  ~B2cService();
  void Stop();

  // A rain grab: the reward service decides (its 4xx verdicts come back as the matching error,
  // e.g. Conflict(budget_exhausted)); the granted subsidy is recorded as the mode says.
  void Grab(std::string round, int64_t user_id, std::function<void(Result<GrabOutcome>)> done);
  // The reward service's subsidies of a user merged with the ledger's records, each once.
  void ListSubsidies(int64_t user_id, std::function<void(Result<SubsidyList>)> done);
  // The whole TCC for one B2C send (req.subsidy_token is verified here). Returns the packet
  // (active) or the replayed original. Conflict(subsidy_refused) when the reward service refuses
  // the subsidy (the packet is then closed); Unavailable when the reward service cannot be
  // reached (the try is settled later, and a replay of the same send picks it up).
  void Send(SendRequest req, int64_t sender_id, std::function<void(Result<B2cSend>)> done);

  // One pass of the settling scanner. Returns how many subsidies moved. Blocking.
  Result<int64_t> SettleStuck(int limit);
  B2cStats Stats() const;
  void RegisterMetrics(metrics::Hub& hub) const;
  const std::string& mode() const { return options_.mode; }

 private:
  Result<GrabOutcome> GrabNow(const std::string& round, int64_t user_id);
  Result<SubsidyList> ListNow(int64_t user_id);
  Result<B2cSend> SendNow(const SendRequest& req, int64_t sender_id);
  Status RecordGrab(const SubsidyGrant& grant);
  Status TryAndSettle(int64_t packet_id, const std::string& subsidy_id,
                      ledger::PacketRecord* packet);
  void Confirm(int64_t packet_id, const std::string& subsidy_id);
  int64_t FlushAsync();
  // Writes one batch from the Redis stream; returns how many grabs it wrote.
  int64_t FlushStream();
  Status WriteBatch(const std::vector<SubsidyGrant>& batch);

  ledger::Engine* ledger_;
  BlockingPool* pool_;
  ClaimScheme* scheme_;
  const Clock* clock_;
  const B2cOptions options_;
  base::RewardTcc tcc_;
  mutable std::mutex mu_;
  std::deque<SubsidyGrant> pending_;
  B2cStats stats_;
  std::unique_ptr<base::RedisStream> grabs_;  // Null: in-memory queue only.
  std::unique_ptr<Periodic> flusher_;
  std::unique_ptr<Periodic> settler_;
};

}  // namespace rp::core
