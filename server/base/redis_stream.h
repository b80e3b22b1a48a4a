// RedisStream: one Redis stream read by one consumer group — the seed's MQ. Delivery is
// at-least-once: an entry read by a consumer stays pending until Ack(); entries a dead or slow
// consumer held longer than min_idle_ms are re-claimed by Reclaim(). Acked entries are deleted,
// so Length() is the backlog and the oldest entry's id gives the queue lag.
//
// The stream is never the only copy of anything: producers keep the truth in the ledger (the
// outbox) or can recreate it (the reward service keeps grabbed subsidies), so a flushed or
// restarted Redis delays work and never loses it. Every call returns Unavailable when Redis
// fails. Thread-safe (the pool is).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/metrics/metrics.h"
#include "common/status.h"
#include "server/base/redis_client.h"

namespace rp::base {

struct StreamEntry {
  std::string id;  // "ms-seq", Redis's.
  std::map<std::string, std::string> fields;
};

class RedisStream {
 public:
  // redis is not owned and must outlive the stream.
  RedisStream(RedisPool* redis, std::string key, std::string group)
      : redis_(redis), key_(std::move(key)), group_(std::move(group)) {}

  // Appends an entry unless the backlog already holds max_len entries (then false: the caller
  // takes its slow path; nothing is ever trimmed away).
  Result<bool> AddBounded(const std::map<std::string, std::string>& fields, int64_t max_len);
  // New entries for this consumer, at most count. Creates the group (and stream) when a flush or
  // restart removed it.
  Result<std::vector<StreamEntry>> Read(const std::string& consumer, int count);
  // Entries pending longer than min_idle_ms (their consumer died or stalled), now this
  // consumer's. At most count.
  Result<std::vector<StreamEntry>> Reclaim(const std::string& consumer, int64_t min_idle_ms,
                                           int count);
  // Done with these entries: acknowledged and deleted.
  Status Ack(const std::vector<std::string>& ids);
  // Entries not yet acknowledged (read or not).
  Result<int64_t> Length();
  // Age of the oldest unacknowledged entry by Redis's own clock (ids are stamped by it); 0 when
  // the stream is empty.
  Result<int64_t> OldestAgeMs();
  const std::string& key() const { return key_; }

 private:
  Status EnsureGroup();

  RedisPool* redis_;
  const std::string key_;
  const std::string group_;
};

// The figures of one stream in /metrics, labelled {stream=name}: backlog and lag (gauges),
// entries published and work done around Redis because it failed (counters).
struct StreamFigures {
  int64_t backlog = 0;
  int64_t lag_ms = 0;
  int64_t published = 0;
  int64_t fallbacks = 0;
};
void WriteStreamMetrics(metrics::Writer& w, const std::string& name, const StreamFigures& f);

// The milliseconds part of a stream id ("1700000000000-3" → 1700000000000); 0 if malformed.
int64_t StreamIdMs(const std::string& id);

}  // namespace rp::base
