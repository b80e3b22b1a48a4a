// Degrader: business degradation (the seed: "core service failures trigger graceful degradation
// with user-friendly messages; non-core failures downgrade features while keeping core flows
// functional"). Every feature has a tier. Core features (send, claim, the payment callback,
// transfers) are never degraded: overload sheds them only through rate limits, with a clear
// message. Each non-core feature has a cheaper form its caller takes when the feature is
// degraded:
//
//   others_luck      the packet's claim list (GET /v1/packets/{id}/claims): an empty page
//   subsidy_display  the reward service's half of GET /v1/subsidies: ledger records only
//   audience         the receiving-range check of a claim (social service): not enforced
//   recon            scheduled reconciliation: skipped (GET /admin/recon still runs)
//
// A feature is degraded when switched off by hand (PUT /admin/degrade), or — in mode auto —
// when the breaker of the downstream it needs is open, or when its own SLO is broken: each
// feature's runs feed a circuit breaker of its own (slow = over the feature's latency SLO),
// and while that breaker is open the feature is degraded; it half-opens after open_ms and a few
// good runs restore it. Mode on keeps the feature in full whatever happens.
//
// Callers: Start() before the feature's work; when it says full, Finish() after. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/status.h"
#include "server/base/breakers.h"

namespace rp::base {

enum class Feature : uint8_t {
  kSend,
  kClaim,
  kPayCallback,
  kTransfers,
  kOthersLuck,
  kSubsidyDisplay,
  kAudience,
  kRecon,
};
inline constexpr size_t kFeatureCount = 8;
enum class Tier : uint8_t { kCore, kNonCore };
enum class FeatureMode : uint8_t { kAuto, kOn, kOff };

std::string_view Name(Feature f);      // "send", ..., "others_luck", "subsidy_display", ...
std::string_view Name(FeatureMode m);  // "auto" | "on" | "off"
std::optional<Feature> ParseFeature(std::string_view name);
std::optional<FeatureMode> ParseFeatureMode(std::string_view name);
Tier TierOf(Feature f);

// Config section `degrade` (declared in base/options.cpp). SLOs in ms; ratios whole percents.
struct DegradeConfig {
  int64_t window_ms = 10000;
  int calls_min = 20;
  int slow_percent_max = 50;
  int error_percent_max = 50;
  int64_t open_ms = 10000;
  int64_t others_luck_slo_ms = 200;
  int64_t subsidy_display_slo_ms = 500;
  int64_t audience_slo_ms = 300;
  int64_t recon_slo_ms = 60000;
};

struct FeatureState {
  Feature feature;
  Tier tier;
  FeatureMode mode;
  bool degraded = false;
  std::string reason;  // Why degraded: "switched off", "social breaker open", "slo broken".
  int64_t degraded_answers = 0;
};

class Degrader {
 public:
  // breakers may be nullptr (downstream breakers off); neither it nor clock is owned.
  Degrader(DegradeConfig config, Breakers* breakers, const Clock* clock);
  ~Degrader();

  // Whether feature runs in full now. False: take its cheaper form (counted as one degraded
  // answer). Core features always run in full.
  [[nodiscard]] bool Start(Feature f);
  // The outcome of a run Start() let go in full.
  void Finish(Feature f, bool ok, int64_t latency_ms);
  // Counts a degraded answer given for another reason (a lookup that failed mid-run).
  void CountDegraded(Feature f);

  // The manual switch. InvalidArgument (invalid_feature) for a core feature.
  Status Set(Feature f, FeatureMode mode);
  std::vector<FeatureState> States();

  // rp_feature_degraded{feature} (1 while degraded), rp_degraded_answers_total{feature}.
  void RegisterMetrics(metrics::Hub& hub);

 private:
  struct Slot;
  bool Degraded(Slot& s, std::string* reason);

  const DegradeConfig config_;
  Breakers* const breakers_;
  const Clock* const clock_;
  std::array<std::unique_ptr<Slot>, kFeatureCount> slots_;
};

}  // namespace rp::base
