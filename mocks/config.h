// rp-mock's configuration: every key declared once on the same strict loader rp-server uses
// (common/options.h) — the YAML file (--config), the flags, the environment, the `rp-mock config`
// table — so an unknown key, a wrong type or a value out of range is refused with file:line the
// same way in both programs. Not thread-safe: declare, load and validate on one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/options.h"
#include "common/status.h"
#include "mocks/reward.h"
#include "mocks/switches.h"

namespace rp::mock {

struct MockConfig {
  int port = 0;
  int threads = 64;  // Handler threads: bounds concurrent requests (and hanging ones).
  std::string data_dir;
  uint64_t seed = 1;
  std::string payment_secret;
  std::string reward_secret;
  int follow_percent = 30;
  int64_t subsidy_ttl_s = 86400;
  std::vector<Switch> switches;   // Set at start, as POST /admin/switches would.
  std::vector<RoundSpec> rounds;  // Created at start, as POST /admin/rounds would.
};

// Declares every key of config on r (which keeps pointers into config: it must outlive r).
void Declare(options::Registry& r, MockConfig* config);

}  // namespace rp::mock
