// What rp-mock reads from the outside (its request bodies: transfers, refunds, pay orders,
// grabs, TCC calls, rain rounds, failure switches) and what rp-server reads back from the
// services (pay orders, callbacks, relations, subsidy lists) — one JSON parser each.
#include <nlohmann/json.hpp>

#include "common/downstream.h"
#include "common/mock_switch.h"
#include "mocks/reward.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [which, text] = rp::fuzz::Split(data, size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  switch (which % 11) {
    case 0:
      (void)rp::downstream::ParseTransferRequest(j);
      break;
    case 1:
      (void)rp::downstream::ParseRefundRequest(j);
      break;
    case 2:
      (void)rp::downstream::ParsePayOrderRequest(j);
      break;
    case 3:
      (void)rp::downstream::ParsePayOrder(j);
      break;
    case 4:
      (void)rp::downstream::ParsePaymentCallback(j);
      break;
    case 5:
      (void)rp::downstream::ParseGrabRequest(j);
      break;
    case 6:
      (void)rp::downstream::ParseTccRequest(j);
      break;
    case 7:
      (void)rp::downstream::ParseRelation(j);
      break;
    case 8:
      (void)rp::downstream::ParseSubsidyList(j);
      break;
    case 9:
      (void)rp::mock::ParseRound(j);
      break;
    default: {
      auto s = rp::mock::ParseSwitch(j);
      // A switch that parsed serializes into one that parses to the same thing.
      if (s.ok() && !rp::mock::ParseSwitch(rp::mock::SwitchJson(*s)).ok()) {
        rp::fuzz::Fail("a parsed switch does not parse back");
      }
    }
  }
  return 0;
}
