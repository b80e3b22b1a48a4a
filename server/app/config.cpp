#include "server/app/config.h"

#include "common/claim_schemes.h"
#include "common/options_cli.h"

namespace rp {

void Declare(options::Registry& r, ServerConfig* c) {
  gateway::Declare(r, &c->server);
  ledger::Declare(r, &c->ledger);
  core::Declare(r, &c->claim);
  core::Declare(r, &c->packet);
  async::Declare(r, &c->scanner);
  base::Declare(r, &c->downstream);
  base::Declare(r, &c->breaker);
  base::Declare(r, &c->bulkhead);
  base::Declare(r, &c->degrade);
  async::Declare(r, &c->async);
  recon::Declare(r, &c->recon);
  core::Declare(r, &c->subsidy);
  r.String("secrets.reward", &c->reward_secret)
      .Secret()
      .Env("RP_REWARD_SECRET")
      .Help("HMAC key of subsidy tokens (>= 16 bytes; needed with reward.url)");
  base::Declare(r, &c->redis);
  limits::Declare(r, &c->limits, gateway::LimitRouteNames());
  r.Uint("rng.seed", &c->rng_seed)
      .Flag("--seed")
      .Help("seed of share draws and retry jitter; 0: random");
  r.Rule(
      [c] {
        const ClaimSchemeInfo* s = FindClaimScheme(c->claim.scheme);
        return s == nullptr || !s->needs_redis || !c->redis.url.empty();
      },
      "claim.scheme mem_lock and presplit need redis.url (or --redis)");
  r.Rule([c] { return c->async.queue != "redis_streams" || !c->redis.url.empty(); },
         "async.queue redis_streams needs redis.url (or --redis)");
  r.Rule(
      [c] {
        for (const limits::LimitRule& rule : c->limits.config.rules) {
          if (rule.scope == limits::Scope::kGlobal && c->redis.url.empty()) return false;
        }
        return true;
      },
      "a limits rule with scope: global keeps its bucket in Redis: it needs redis.url (or "
      "--redis)");
  r.Rule(
      [c] {
        const std::string& reward =
            c->downstream.reward_url.empty() ? c->downstream.mocks_url : c->downstream.reward_url;
        return reward.empty() || c->reward_secret.size() >= 16;
      },
      "a reward service needs its secret (secrets.reward or RP_REWARD_SECRET, >= 16 bytes)");
}

Status LoadServerConfig(const ConfigSources& sources, options::Registry& r, ServerConfig* config) {
  if (!sources.file.empty()) {
    Status s = r.LoadYamlFile(sources.file);
    if (!s.ok()) return s;
  }
  Status s = options::ApplyFlags(r, sources.flags);
  if (!s.ok()) return s;
  r.ApplyEnvironment();
  s = r.Validate();
  if (!s.ok()) return s;
  config->downstream.Resolve();
  return Status::Ok();
}

}  // namespace rp
