#include "server/core/options.h"

#include "common/claim_schemes.h"

namespace rp::core {

void Declare(options::Registry& r, ClaimOptions* o) {
  r.String("claim.scheme", &o->scheme)
      .OneOf(ClaimSchemeNames())
      .Flag("--claim-scheme")
      .Help("how concurrent claims contend (mem_lock and presplit need redis.url)");
  r.Int("claim.batch_max", &o->batch_max)
      .Range(1, 10000)
      .Unit("claims")
      .Help("batched: claims of one packet per write transaction at most");
  r.Int("claim.redis_reset_max", &o->redis_reset_max)
      .Range(0, 10'000'000)
      .Unit("packets")
      .Help("mem_lock/presplit: open packets whose Redis state is dropped at start-up");
  r.Int("claim.redis_key_ttl_s", &o->redis_key_ttl_s)
      .Range(60, 365 * 86400)
      .Unit("s")
      .Help(
          "mem_lock/presplit: Redis keys of a packet expire on their own after this long "
          "(longer than packet.ttl_s: a key gone early is rebuilt from the ledger)");
  r.Int("claim.redis_threads", &o->redis_threads)
      .Range(1, 256)
      .Unit("threads")
      .Help("mem_lock/presplit: threads making the scheme's blocking Redis calls");
  r.Int("claim.redis_queue_max", &o->redis_queue_max)
      .Range(1, 1'000'000)
      .Unit("claims")
      .Help("mem_lock/presplit: claims waiting for a Redis thread at most; beyond: 503");
  r.Int("claim.final_packets_max", &o->final_packets_max)
      .Range(0, 100'000'000)
      .Unit("entries")
      .Help("mem_lock: finished packets and their claimers remembered to refuse without Redis");
}

void Declare(options::Registry& r, PacketOptions* o) {
  r.Int("packet.ttl_s", &o->ttl_s)
      .Range(1, 30 * 86400)
      .Unit("s")
      .Flag("--packet-ttl")
      .Help("time until a packet expires and its remainder is refunded");
  r.Int("packet.count_max", &o->count_max)
      .Range(1, 1'000'000)
      .Unit("shares")
      .Help("most shares one packet may have");
  r.Int("packet.share_cents_max", &o->share_cents_max)
      .Range(1, 100'000'000)
      .Unit("cents")
      .Help("largest single share");
  r.Int("packet.greeting_chars_max", &o->greeting_chars_max)
      .Range(0, 10000)
      .Unit("chars")
      .Help("longest greeting");
}

void Declare(options::Registry& r, SubsidyOptions* o) {
  r.String("subsidy.mode", &o->mode)
      .OneOf({"sync", "async", "hybrid"})
      .Help("B2C issuance: write each grab (sync), queue grabs (async), or write at use (hybrid)");
}

}  // namespace rp::core
