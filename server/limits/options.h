// The limits module's options: section `limits` of the server config — shadow mode, the bound
// on per-key state, and the rules (a list; see rules.h and docs/stability.md). The same file a
// `rp-sim capacity` run writes (limits.yaml) loads here as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/options.h"
#include "server/limits/rules.h"

namespace rp::limits {

struct LimitsOptions {
  LimitsConfig config;
  int64_t keys_max = 100000;  // Per rule: user or packet buckets kept.
};

// routes: the names rules may use (the gateway's, see gateway/routes.h).
void Declare(options::Registry& r, LimitsOptions* o, std::vector<std::string> routes);

}  // namespace rp::limits
