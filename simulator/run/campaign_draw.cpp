// Drawing a campaign seed: its scheme, its load and a fault timeline from the fault-action
// table, written as an ordinary scenario file.
#include "common/ledger_engines.h"
#include "simulator/run/campaign.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/check.h"
#include "common/claim_schemes.h"
#include "simulator/run/run_internal.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {
namespace {

using nlohmann::json;

constexpr int kFaultsMax = 4;        // Per seed: enough to interleave, few enough to read.
constexpr int kPlacementTries = 12;  // A window that keeps overlapping its lane is skipped.

using A = FaultAction;

// Whether a seed can draw the fault (the table's tickets, and what the system has): a fault of
// one lane never overlaps another of that lane, so each one applies; one that takes the server or
// its database away gets a budget of unanswered requests for its window.
bool Drawable(const FaultActionInfo& row, const CampaignSystem& system) {
  if (row.campaign_tickets == 0) return false;
  if (row.takes_instance && system.instances < 2) return false;
  switch (row.needs) {
    case FaultNeeds::kNothing:
      return true;
    case FaultNeeds::kRedis:
      return system.redis;
    case FaultNeeds::kPostgres:
      return system.ledger == kPostgresEngine;
    case FaultNeeds::kTwoInstances:
      return system.instances > 1;
  }
  return false;
}

// One action of the timeline. Plain data while drawing: a YAML::Node assigned over another
// rewrites the node it referred to (yaml-cpp's reference semantics), so nodes are made once,
// at the end.
struct DrawnAction {
  double at_s = 0;
  FaultAction action{};
  std::string claim_scheme;        // server_restart only.
  json mock_switch;                // mock_switch only.
  int instance = -1;               // instance_* only.
  bool unanswered_budget = false;  // Requests in flight in this fault's window may go unanswered.
};

DrawnAction Action(double at_s, FaultAction action) {
  DrawnAction a;
  a.at_s = std::round(at_s * 10) / 10;
  a.action = action;
  return a;
}

// One drawn fault: its kind, its actions, and the component lane it occupies from start_s to
// end_s.
struct DrawnFault {
  FaultAction kind{};
  FaultLane lane{};
  double start_s = 0, end_s = 0;
  std::vector<DrawnAction> actions;
};

YAML::Node ActionNode(const DrawnAction& a) {
  YAML::Node n;
  char at[32];  // One decimal as text: yaml-cpp would write 3.2999999999999998 for 3.3.
  std::snprintf(at, sizeof at, "%.1f", a.at_s);
  n["at_s"] = std::string(at);
  n["action"] = Name(a.action);
  if (!a.claim_scheme.empty()) n["claim_scheme"] = a.claim_scheme;
  if (!a.mock_switch.is_null()) n["switch"] = YAML::Load(a.mock_switch.dump());  // JSON is YAML.
  if (a.instance >= 0) n["instance"] = a.instance;
  if (a.unanswered_budget) n["unanswered_max"] = "all";
  return n;
}

class Drawer {
 public:
  Drawer(uint64_t seed, const Scenario& base, const CampaignSystem& system)
      : rng_(seed * 0x9E3779B97F4A7C15ULL + 0x0C0FFEE),
        system_(system),
        duration_s_(static_cast<double>(base.DurationS())) {
    for (const FaultActionInfo& row : kFaultActions) {
      if (!Drawable(row, system)) continue;
      for (int t = 0; t < row.campaign_tickets; ++t) tickets_.push_back(&row);
    }
  }

  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  T Pick(const std::vector<T>& v) {  // A copy: callers pass temporaries.
    return v[static_cast<size_t>(Int(0, int(v.size()) - 1))];
  }

  std::vector<DrawnFault> Faults() {
    std::vector<DrawnFault> placed;
    const int wanted = Int(1, kFaultsMax);
    for (int i = 0; i < wanted; ++i) {
      DrawnFault f = OneFault();
      for (int t = 0; t < kPlacementTries && Overlaps(f, placed); ++t) f = OneFault();
      if (!Overlaps(f, placed)) placed.push_back(std::move(f));
    }
    return placed;
  }

 private:
  bool Overlaps(const DrawnFault& f, const std::vector<DrawnFault>& placed) const {
    for (const DrawnFault& p : placed) {
      if (p.lane == f.lane && f.start_s < p.end_s + 0.5 && p.start_s < f.end_s + 0.5) return true;
    }
    return false;
  }

  // A window inside the load, ending before its last tenth so recovery happens under load.
  void Window(DrawnFault& f, double length_min_s, double length_max_s) {
    const double length = Uniform(length_min_s, length_max_s);
    f.start_s = Uniform(0.1 * duration_s_, std::max(0.1 * duration_s_, 0.9 * duration_s_ - length));
    f.end_s = std::min(f.start_s + length, 0.9 * duration_s_);
  }

  // The draws happen in the order they always did, so a seed draws what it drew before.
  DrawnFault OneFault() {
    const FaultActionInfo& row = *Pick(tickets_);
    DrawnFault f;
    f.kind = row.action;
    f.lane = row.lane;
    const double d = duration_s_;
    switch (row.action) {
      case A::kRedisFlush:
      case A::kServerKill:
      case A::kDbCrash:
      case A::kDbRestart:
        Window(f, OnlyLengthS(row.action), OnlyLengthS(row.action));
        f.actions = {Action(f.start_s, row.action)};
        break;
      case A::kRedisStop:
      case A::kRedisSnapshot:  // Then back from a snapshot older than what the server wrote.
        Window(f, 0.1 * d, 0.3 * d);
        f.actions = {Action(f.start_s, row.action), Action(f.end_s, *row.ended_by[0])};
        break;
      case A::kServerPause:
        Window(f, 0.5, 3.0);
        f.actions = {Action(f.start_s, row.action), Action(f.end_s, *row.ended_by[0])};
        break;
      case A::kServerRestart:
        Window(f, 1.5, 1.5);
        f.actions = {Action(f.start_s, row.action)};
        f.actions[0].claim_scheme = Pick(ClaimSchemeNames());
        break;
      case A::kInstanceKill:
      case A::kInstanceRestart:
        InstanceFault(row, f);
        break;
      case A::kMockSwitch:
        Window(f, 0.1 * d, 0.35 * d);
        f.actions = {Action(f.start_s, row.action), Action(f.end_s, *row.ended_by[0])};
        f.actions[0].mock_switch = MockSwitch();
        break;
      case A::kRedisStart:  // Closing actions: drawn with what they close, no tickets of their own.
      case A::kRedisStaleRestart:
      case A::kServerResume:
      case A::kMockReset:
        RP_CHECK(row.campaign_tickets == 0);
        break;
    }
    f.actions.front().unanswered_budget = row.takes_service_away;
    return f;
  }

  // The window of a fault that is one moment: how long the campaign keeps its lane clear.
  static double OnlyLengthS(FaultAction action) {
    if (action == A::kRedisFlush) return 0.5;
    return action == A::kServerKill ? 1.5 : 3.0;  // Back up, or PostgreSQL's WAL replayed.
  }

  // One instance killed (then restarted) or restarted, chosen first.
  void InstanceFault(const FaultActionInfo& row, DrawnFault& f) {
    const int instance = Int(0, system_.instances - 1);
    const bool kill = row.action == A::kInstanceKill;
    Window(f, kill ? 1.0 : 1.5, kill ? std::max(1.0, 0.3 * duration_s_) : 1.5);
    f.actions = {Action(f.start_s, row.action)};
    if (kill) f.actions.push_back(Action(f.end_s, *row.ended_by[0]));
    for (DrawnAction& a : f.actions) a.instance = instance;
  }

  json MockSwitch() {
    json sw;
    const std::string service =
        Pick(std::vector<std::string>{"payment", "wallet", "reward", "social"});
    sw["service"] = service;
    std::vector<std::string> effects = {"error_rate", "timeout_rate", "latency", "down"};
    if (service == "payment") effects.push_back("duplicate_rate");  // Its callbacks, twice.
    const std::string effect = Pick(effects);
    const double rate = std::round(Uniform(0.2, 0.9) * 100) / 100;
    if (effect == "error_rate" || effect == "duplicate_rate") sw[effect] = rate;
    if (effect == "timeout_rate") {
      sw["timeout_rate"] = rate;
      sw["hang_ms"] = Int(500, 2500);
    }
    if (effect == "latency") sw["latency_ms"] = {{"fixed", Int(20, 400)}};
    if (effect == "down") sw["down"] = true;
    return sw;
  }

  std::mt19937_64 rng_;
  const CampaignSystem system_;
  const double duration_s_;
  std::vector<const FaultActionInfo*> tickets_;
};

// Every rate of the base's phases times factor (at least 1 arrival/s or 1 user).
void ScaleLoad(YAML::Node load, double factor) {
  for (YAML::Node phase : load["phases"]) {
    for (const char* key : {"rate", "rate_end", "spike_rate", "users"}) {
      if (!phase[key]) continue;
      phase[key] = std::max(1.0, std::round(phase[key].as<double>() * factor));
    }
  }
}

}  // namespace

std::string CampaignReplayFlags(const RunOptions& run) {
  std::string flags;
  if (run.duration_s > 0) flags += " --duration " + std::to_string(run.duration_s);
  if (!run.ledger.empty()) flags += " --ledger " + run.ledger;
  if (run.instances > 0) flags += " --instances " + std::to_string(run.instances);
  if (!run.claim_scheme.empty()) flags += " --claim-scheme " + run.claim_scheme;
  return flags;
}

CampaignSystem CampaignSystemOf(const Scenario& base, const RunOptions& run) {
  CampaignSystem system;
  system.ledger = run.ledger.empty() ? base.system.ledger : run.ledger;
  system.instances = run.instances > 0 ? run.instances : base.system.instances;
  return system;
}

std::vector<std::string> DrawableFaultKinds(const CampaignSystem& system) {
  std::vector<std::string> kinds;
  for (const FaultActionInfo& row : kFaultActions) {
    if (Drawable(row, system)) kinds.push_back(row.name);
  }
  return kinds;
}

Result<CampaignDraw> DrawCampaign(const std::string& base_path, uint64_t seed,
                                  const RunOptions& run) {
  Result<Scenario> base = LoadScenario(base_path);
  if (!base.ok()) return base.status();
  YAML::Node root;
  try {
    root = YAML::LoadFile(base_path);
  } catch (const YAML::Exception& e) {
    return Status(Error::kBadScenario, base_path + ": " + e.what());
  }
  CampaignDraw out;
  out.system = CampaignSystemOf(*base, run);
  Drawer draw(seed, *base, out.system);
  // Drawn even when the run names the scheme, so the rest of the seed is drawn as without it.
  std::string scheme = draw.Pick(ClaimSchemeNames());
  if (!run.claim_scheme.empty()) scheme = run.claim_scheme;
  const double load_factor = std::round(draw.Uniform(0.4, 1.2) * 100) / 100;
  root["name"] = base->name + "-seed-" + std::to_string(seed);
  root["description"] = "Drawn by rp-sim campaign from " + base_path + ", seed " +
                        std::to_string(seed) + ": claim scheme " + scheme + ", load x" +
                        std::to_string(load_factor).substr(0, 4) + ", a random fault timeline.";
  root["seed"] = seed;
  root["system"]["claim_scheme"] = scheme;
  root["system"]["redis"] = out.system.redis;  // Every scheme and every Redis fault is possible.
  // The system the faults were drawn for, so the file runs as it is.
  root["system"]["ledger"] = out.system.ledger;
  root["system"]["instances"] = out.system.instances;
  // Short lives, so each seed settles (expiry, refunds) soon after its load.
  constexpr int64_t kCampaignTtlS = 4;
  const nlohmann::json* ttl = ServerConfigKey(base->system, "packet.ttl_s");
  root["system"]["server"]["packet"]["ttl_s"] = ttl != nullptr && ttl->is_number_integer()
                                                    ? std::min(ttl->get<int64_t>(), kCampaignTtlS)
                                                    : kCampaignTtlS;
  ScaleLoad(root["load"], load_factor);
  // Faults may slow the system until arrivals pile up at the in-flight bound: that is load
  // shed by the simulator, not money lost, and not what a campaign judges.
  root["load"]["dropped_percent_max"] = 100;
  std::vector<DrawnAction> actions;
  for (const DrawnFault& f : draw.Faults()) {
    out.fault_kinds.push_back(Name(f.kind));
    actions.insert(actions.end(), f.actions.begin(), f.actions.end());
  }
  std::stable_sort(actions.begin(), actions.end(),
                   [](const DrawnAction& a, const DrawnAction& b) { return a.at_s < b.at_s; });
  YAML::Node faults(YAML::NodeType::Sequence);
  for (const DrawnAction& a : actions) faults.push_back(ActionNode(a));
  root["faults"] = faults;
  // Latency thresholds mean nothing under random faults; money does. The plan's own checks
  // (every fault applied, every request answered outside the budgeted windows) and the
  // verification still judge every seed.
  YAML::Node checks(YAML::NodeType::Sequence);
  checks.push_back("recon.drift == 0");
  root["checks"] = checks;
  YAML::Emitter emitted;
  emitted << root;
  const std::string replay_flags = CampaignReplayFlags(run);
  out.text = "# Drawn by `rp-sim campaign` from " + base_path + ", seed " + std::to_string(seed) +
             ".\n# Replay: rp-sim run " + base_path + " --campaign-seed " + std::to_string(seed) +
             replay_flags + " (or run this file" +
             (replay_flags.empty() ? std::string() : " with" + replay_flags) + ").\n" +
             emitted.c_str() + "\n";
  return out;
}

Result<std::string> DrawCampaignScenario(const std::string& base_path, uint64_t seed,
                                         const RunOptions& run) {
  Result<CampaignDraw> drawn = DrawCampaign(base_path, seed, run);
  if (!drawn.ok()) return drawn.status();
  return drawn->text;
}

Result<std::string> WriteCampaignScenario(const std::string& base_path, uint64_t seed,
                                          const std::string& dir, const RunOptions& run) {
  Result<std::string> text = DrawCampaignScenario(base_path, seed, run);
  if (!text.ok()) return text.status();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string stem = std::filesystem::path(base_path).stem().string();
  const std::string path = dir + "/" + stem + "-seed-" + std::to_string(seed) + ".yaml";
  // O_NOFOLLOW: a symlink in the file's place is refused, never written through.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  bool written =
      fd >= 0 && write(fd, text->data(), text->size()) == static_cast<ssize_t>(text->size());
  if (fd >= 0) written = close(fd) == 0 && written;
  if (!written) {
    return Status(Error::kBadScenario, "cannot write " + path + ": " + std::strerror(errno));
  }
  // The drawn file must read back as a scenario: a drawing rp-sim itself refuses is a bug here.
  Result<Scenario> check = LoadScenario(path);
  if (!check.ok()) return check.status();
  return path;
}

}  // namespace rp::sim
