// ServerConfig: rp-server's configuration — each module's own options struct, composed — and
// the one place the keys of every module are declared into a registry (common/options.h). The
// YAML loader, the command-line flags, the error messages and the table in docs/api.md all come
// from these declarations.
#pragma once

#include <cstdint>
#include <string>

#include "common/options.h"
#include "server/async/options.h"
#include "server/base/options.h"
#include "server/core/options.h"
#include "server/gateway/options.h"
#include "server/gateway/routes.h"
#include "server/ledger/options.h"
#include "server/limits/options.h"
#include "server/recon/recon.h"

namespace rp {

struct ServerConfig {
  gateway::GatewayOptions server;
  ledger::LedgerOptions ledger;
  core::ClaimOptions claim;
  core::PacketOptions packet;
  core::SubsidyOptions subsidy;
  std::string reward_secret;  // Verifies subsidy tokens (B2C).
  async::AsyncOptions async;
  async::ScannerOptions scanner;
  base::DownstreamOptions downstream;
  base::RedisConfig redis;
  base::BreakerConfig breaker;
  base::BulkheadConfig bulkhead;
  base::DegradeConfig degrade;
  limits::LimitsOptions limits;
  recon::ReconConfig recon;
  uint64_t rng_seed = 0;  // 0: seeded from std::random_device.
};

// Declares every key of config into r (pointers into config: it must outlive r), with the rules
// that span modules.
void Declare(options::Registry& r, ServerConfig* config);

// Loads a config the way every rp-server subcommand does: the YAML file (if any), then the
// flags given, then secrets from the environment, then the checks. The first problem as
// bad_config naming the file:line, flag or key.
struct ConfigSources {
  std::string file;  // "" for none.
  options::GivenFlags flags;
};
Status LoadServerConfig(const ConfigSources& sources, options::Registry& r, ServerConfig* config);

}  // namespace rp
