#include "server/core/split.h"

#include <algorithm>

#include "common/check.h"

namespace rp::core {

int64_t DrawShare(Split split, int64_t remaining_cents, int64_t remaining_count,
                  int64_t cap_cents, std::mt19937_64& rng) {
  RP_CHECK(remaining_count >= 1 && cap_cents >= 1);
  RP_CHECK(remaining_cents >= remaining_count);
  RP_CHECK(remaining_cents / cap_cents <= remaining_count);  // No overflow: divide, not multiply.
  RP_CHECK(remaining_cents <= remaining_count * cap_cents);
  int64_t share = 0;
  if (remaining_count == 1) {
    share = remaining_cents;
  } else if (split == Split::kEven) {
    RP_CHECK(remaining_cents % remaining_count == 0);
    share = remaining_cents / remaining_count;
  } else {
    const int64_t others = remaining_count - 1;
    // Everyone after us needs >= 1 cent and can take at most cap_cents.
    int64_t low = std::max<int64_t>(1, remaining_cents - others * cap_cents);
    int64_t high = std::min({2 * (remaining_cents / remaining_count), cap_cents,
                             remaining_cents - others});
    high = std::max(high, low);
    share = std::uniform_int_distribution<int64_t>(low, high)(rng);
  }
  RP_CHECK(share >= 1 && share <= cap_cents);
  RP_CHECK(remaining_cents - share >= remaining_count - 1);
  return share;
}

}  // namespace rp::core
