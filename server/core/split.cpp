#include "server/core/split.h"

#include <algorithm>

#include "common/check.h"

namespace rp::core {

int64_t DrawShare(ledger::SplitKind split, int64_t remaining_cents, int64_t remaining_count,
                  int64_t cap_cents, ShareRng& rng) {
  RP_CHECK(remaining_count >= 1 && cap_cents >= 1);
  RP_CHECK(remaining_cents >= remaining_count);
  RP_CHECK(remaining_cents / cap_cents <= remaining_count);  // No overflow: divide, not multiply.
  RP_CHECK(remaining_cents <= remaining_count * cap_cents);
  int64_t share = 0;
  if (remaining_count == 1) {
    share = remaining_cents;
  } else if (split == ledger::SplitKind::kEven) {
    RP_CHECK(remaining_cents % remaining_count == 0);
    share = remaining_cents / remaining_count;
  } else {
    // Uniform on an interval centred on the current average a: [1, 2a-1] (the double mean),
    // narrowed symmetrically when the cap binds so that the expected share stays a and no
    // claim position is favoured. Then clamped so the rest stays allocatable (rarely binds;
    // only through integer rounding).
    const int64_t others = remaining_count - 1;
    const int64_t average = remaining_cents / remaining_count;
    const int64_t half_width = std::min(average - 1, cap_cents - average);
    int64_t low = std::max(average - half_width, remaining_cents - others * cap_cents);
    int64_t high = std::min(average + half_width, remaining_cents - others);
    high = std::max(high, low);
    share = std::uniform_int_distribution<int64_t>(low, high)(rng);
  }
  RP_CHECK(share >= 1 && share <= cap_cents);
  RP_CHECK(remaining_cents - share >= remaining_count - 1);
  return share;
}

}  // namespace rp::core
