#include "server/base/degrade.h"

#include <spdlog/spdlog.h>

#include "common/check.h"
#include "common/enum_names.h"

namespace rp::base {
namespace {

constexpr EnumNames<Feature, kFeatureCount> kFeatureNames{{"send", "claim", "pay_callback",
                                                           "transfers", "others_luck",
                                                           "subsidy_display", "audience", "recon"}};
constexpr EnumNames<FeatureMode, 3> kModeNames{{"auto", "on", "off"}};

// The downstream service a non-core feature needs ("" for none).
std::string_view ServiceOf(Feature f) {
  switch (f) {
    case Feature::kSubsidyDisplay:
      return "reward";
    case Feature::kAudience:
      return "social";
    default:
      return "";
  }
}

int64_t SloMs(const DegradeConfig& c, Feature f) {
  switch (f) {
    case Feature::kOthersLuck:
      return c.others_luck_slo_ms;
    case Feature::kSubsidyDisplay:
      return c.subsidy_display_slo_ms;
    case Feature::kAudience:
      return c.audience_slo_ms;
    default:
      return c.recon_slo_ms;
  }
}

}  // namespace

std::string_view Name(Feature f) {
  return kFeatureNames.Name(f);
}
std::string_view Name(FeatureMode m) {
  return kModeNames.Name(m);
}
std::optional<Feature> ParseFeature(std::string_view name) {
  return kFeatureNames.Parse(name);
}
std::optional<FeatureMode> ParseFeatureMode(std::string_view name) {
  return kModeNames.Parse(name);
}
Tier TierOf(Feature f) {
  return static_cast<size_t>(f) < static_cast<size_t>(Feature::kOthersLuck) ? Tier::kCore
                                                                            : Tier::kNonCore;
}

struct Degrader::Slot {
  Feature feature = Feature::kSend;
  std::atomic<FeatureMode> mode{FeatureMode::kAuto};
  std::unique_ptr<CircuitBreaker> slo;  // Non-core only.
  std::atomic<int64_t> answers{0};
};

Degrader::Degrader(DegradeConfig config, Breakers* breakers, const Clock* clock)
    : config_(config), breakers_(breakers), clock_(clock) {
  RP_CHECK(clock_ != nullptr);
  BreakerOptions o;
  o.window_ms = config_.window_ms;
  o.calls_min = config_.calls_min;
  o.error_ratio_max = RatioOfPercent(config_.error_percent_max);
  o.slow_ratio_max = RatioOfPercent(config_.slow_percent_max);
  o.open_ms = config_.open_ms;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    auto s = std::make_unique<Slot>();
    s->feature = static_cast<Feature>(i);
    if (TierOf(s->feature) == Tier::kNonCore) {
      o.slow_call_ms = SloMs(config_, s->feature);
      const std::string_view name = Name(s->feature);
      s->slo = std::make_unique<CircuitBreaker>(o, clock_, [name](BreakerState, BreakerState to) {
        spdlog::warn("feature {}: {}", name,
                     to == BreakerState::kOpen ? "SLO broken, degraded" : Name(to));
      });
    }
    slots_[i] = std::move(s);
  }
}

Degrader::~Degrader() = default;

bool Degrader::Degraded(Slot& s, std::string* reason) {
  if (TierOf(s.feature) == Tier::kCore) return false;
  const FeatureMode mode = s.mode.load();
  if (mode == FeatureMode::kOn) return false;
  if (mode == FeatureMode::kOff) {
    *reason = "switched off";
    return true;
  }
  const std::string_view service = ServiceOf(s.feature);
  if (!service.empty() && breakers_ != nullptr && breakers_->AnyOpen(service)) {
    *reason = std::string(service) + " breaker open";
    return true;
  }
  if (s.slo->state() == BreakerState::kOpen) {
    *reason = "slo broken";
    return true;
  }
  return false;
}

bool Degrader::Start(Feature f) {
  Slot& s = *slots_[static_cast<size_t>(f)];
  std::string reason;
  if (Degraded(s, &reason)) {
    s.answers.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // A half-open SLO breaker lets a few runs through as probes; the rest take the cheap form.
  if (s.slo != nullptr && s.mode.load() == FeatureMode::kAuto && !s.slo->Allow()) {
    s.answers.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Degrader::Finish(Feature f, bool ok, int64_t latency_ms) {
  Slot& s = *slots_[static_cast<size_t>(f)];
  if (s.slo != nullptr && s.mode.load() == FeatureMode::kAuto) s.slo->Record(ok, latency_ms);
}

void Degrader::CountDegraded(Feature f) {
  slots_[static_cast<size_t>(f)]->answers.fetch_add(1, std::memory_order_relaxed);
}

Status Degrader::Set(Feature f, FeatureMode mode) {
  if (TierOf(f) == Tier::kCore) {
    return {Error::kInvalidFeature,
            std::string(Name(f)) +
                " is a core feature and is never degraded; shed load with /admin/limits"};
  }
  slots_[static_cast<size_t>(f)]->mode.store(mode);
  spdlog::warn("feature {} switched to {}", Name(f), Name(mode));
  return Status::Ok();
}

std::vector<FeatureState> Degrader::States() {
  std::vector<FeatureState> out;
  for (auto& s : slots_) {
    FeatureState st{s->feature, TierOf(s->feature), s->mode.load(), false, "", 0};
    st.degraded = Degraded(*s, &st.reason);
    st.degraded_answers = s->answers.load();
    out.push_back(std::move(st));
  }
  return out;
}

void Degrader::RegisterMetrics(metrics::Hub& hub) {
  hub.AddCollector([this](metrics::Writer& w) {
    for (const FeatureState& s : States()) {
      if (s.tier == Tier::kCore) continue;
      const metrics::Labels labels = {{"feature", std::string(Name(s.feature))}};
      w.Gauge("rp_feature_degraded", "1 while a non-core feature runs in its cheaper form",
              s.degraded ? 1.0 : 0.0, labels);
      w.Counter("rp_degraded_answers_total", "Answers given in a feature's cheaper form",
                static_cast<double>(s.degraded_answers), labels);
    }
  });
}

}  // namespace rp::base
