// The core module's options: claim schemes (section `claim`), packet limits checked at the
// boundary (`packet`) and B2C subsidy issuance (`subsidy`).
#pragma once

#include <cstdint>
#include <string>

#include "common/claim_schemes.h"
#include "common/options.h"

namespace rp::core {

// Every knob of the claim schemes, declared once (Declare below) and handed to the scheme as is
// (ClaimSchemeDeps::options).
struct ClaimOptions {
  std::string scheme{SchemeName(ClaimSchemeId::kDbLock)};  // A row of common/claim_schemes.h.
  int batch_max = 256;                                     // batched: claims per write transaction.
  // mem_lock/presplit: at start-up, Redis state of at most this many open packets (newest first)
  // is dropped so their first claim rebuilds it from the ledger; 0: none.
  int redis_reset_max = 100000;
  int64_t redis_key_ttl_s = 86400 * 2;    // mem_lock/presplit: Redis keys expire on their own.
  int redis_threads = 8;                  // mem_lock/presplit: threads making blocking Redis calls.
  int redis_queue_max = 8192;             // Claims waiting for one of them; beyond: 503.
  int64_t final_packets_max = 1'000'000;  // mem_lock: final packets + claimers remembered.
};

struct PacketOptions {
  int64_t ttl_s = 86400;
  int64_t count_max = 10000;
  int64_t share_cents_max = 20000;
  int64_t greeting_chars_max = 100;
};

struct SubsidyOptions {
  std::string mode = "hybrid";  // sync | async | hybrid (core/b2c.h)
};

void Declare(options::Registry& r, ClaimOptions* o);
void Declare(options::Registry& r, PacketOptions* o);
void Declare(options::Registry& r, SubsidyOptions* o);

}  // namespace rp::core
