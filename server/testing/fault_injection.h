// Deliberately broken servers, for the tests that prove our checks catch them. Compiled only
// into builds configured with -DRP_FAULT_INJECTION=ON (the test build); a release build does not
// contain this file. Off unless the environment asks:
//   RP_INJECT_BUG=phantom_claim  every 10th sold-out claim is answered as a win that was never
//                                recorded (rp-sim's verification must name the lost claim)
//   RP_INJECT_BUG=slow_claims    a claim path twice as slow: one claim per packet at a time,
//                                each held as long again as the scheme took (`rp-sim regress`
//                                must fail); RP_INJECT_SCHEME=NAME limits it to one scheme
//   RP_INJECT_BUG=extra_work     every claim first runs RP_INJECT_WORK_ITERATIONS turns of a
//                                fixed loop (a few instructions each): a small, exact CPU
//                                regression for the cost gates; RP_INJECT_SCHEME as above
#pragma once

#include <memory>

#include "server/core/claim_scheme.h"

namespace rp::testing {

// The scheme itself when no bug is asked for; else a wrapper that injects it.
std::unique_ptr<core::ClaimScheme> WrapForFaultInjection(std::unique_ptr<core::ClaimScheme> scheme);

}  // namespace rp::testing
