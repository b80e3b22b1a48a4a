#include "simulator/scenario/scenario.h"

#include "simulator/scenario/scenario_yaml.h"

#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/mock_switch.h"
#include "common/utf8.h"
#include "common/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace rp::sim {
namespace {

using namespace scenario_internal;  // The strict reader (scenario_yaml.h).

// A check must name an operation the scenario's journeys make, so a typo or a flow left at
// weight 0 is found before the run instead of as "no requests were made" after it.
void CheckOperation(const CheckSpec& c, const FlowSpec& f, const YAML::Node& where) {
  const bool c2c = f.c2c.weight > 0, b2c = f.b2c.weight > 0, hot = f.hot.weight > 0;
  // Which flows make each operation (journeys.cpp): pay only without rp-mock (--target).
  const std::map<std::string, bool> made = {
      {"send", c2c || b2c},   {"pay", c2c || b2c},          {"poll", c2c || b2c},
      {"detail", c2c || b2c}, {"claim", c2c || b2c || hot}, {"grab", b2c},
      {"subsidies", b2c}};
  auto it = made.find(c.op);
  if (it == made.end()) {
    std::string known;
    for (const auto& [op, _] : made) known += (known.empty() ? "" : ", ") + op;
    Fail(where, "check '" + c.text + "' names no operation the journeys make (" + known + ")");
  }
  if (!it->second) {
    Fail(where, "check '" + c.text + "': no flow with a weight above 0 makes " + c.op +
                    " requests (grab and subsidies come from flows.b2c)");
  }
}

// One entry of `checks`: a string, or a map {check, abort_on_fail, delay_abort_eval_s}.
CheckSpec ReadCheck(const YAML::Node& n, const Scenario& s) {
  bool abort_on_fail = false;
  double delay_s = 0;
  // Not `text = m.Get(...)`: assigning to a yaml-cpp Node rewrites the node it refers to.
  const YAML::Node text = n.IsMap() ? n["check"] : n;
  if (n.IsMap()) {
    Map m(n, "a check");
    if (!text) Fail(n, "a check written as a map needs 'check'");
    m.ReadBool("abort_on_fail", abort_on_fail);
    m.Read<double>("delay_abort_eval_s", delay_s, 0, 86400);
    m.RejectUnknown({"check", "abort_on_fail", "delay_abort_eval_s"});
  }
  if (!text.IsScalar()) Fail(n, "a check is a string like \"p99(claim) < 50ms\" or a map");
  Result<CheckSpec> check = ParseCheck(text.as<std::string>());
  if (!check.ok()) Fail(text, check.status().message());
  if (!check->op.empty()) CheckOperation(*check, s.flows, text);
  double start_s = 0, end_s = 0;
  if (!check->phase.empty() && !PhaseWindow(s.load.phases, check->phase, &start_s, &end_s)) {
    std::string names;
    for (const Phase& p : s.load.phases) names += (names.empty() ? "" : ", ") + p.name;
    Fail(text, "check '" + check->text + "' names no load phase (" + names + ")");
  }
  check->abort_on_fail = abort_on_fail;
  check->delay_abort_eval_s = delay_s;
  if (abort_on_fail && (check->source == CheckSource::kRecon || check->metric == "recovery_s")) {
    Fail(n, "check '" + check->text + "' is known only after the load: it cannot abort_on_fail");
  }
  return *check;
}

void ReadChecks(const YAML::Node& n, Scenario& s) {
  if (!n.IsSequence()) Fail(n, "checks must be a list");
  for (const auto& c : n) s.checks.push_back(ReadCheck(c, s));
}

// system.server: rp-server's own config sections. Their keys are rp-server's to check (it does,
// before the run); here only what rp-sim itself sets is refused, with what to use instead.
void ReadServerConfig(const YAML::Node& n, SystemSpec& s) {
  if (!n.IsMap()) Fail(n, "system.server must be a mapping of rp-server config sections");
  for (const auto& section : n) {
    const std::string name = section.first.Scalar();
    if (!section.second.IsMap()) {
      Fail(section.second, "system.server." + name + " must be a mapping of rp-server keys");
    }
    for (const auto& key : section.second) {
      const std::string dotted = name + "." + key.first.Scalar();
      for (const OwnedServerKey& owned : RpSimOwnedServerKeys()) {
        const std::string k = owned.key;
        const bool whole_section = k == name + ".*";
        if (whole_section || k == dotted) {
          Fail(key.first, "system.server." + dotted + " is set by rp-sim (" + owned.set_by + ")");
        }
      }
    }
    s.server_config[name] = YamlToJson(section.second);
  }
}

void ReadSystem(const Map& m, SystemSpec& s) {
  m.ReadString("claim_scheme", s.claim_scheme, ClaimSchemeNames());
  m.ReadBool("redis", s.redis);
  if (YAML::Node sw = m.Get("mock_switches")) {
    if (!sw.IsSequence()) Fail(sw, "system.mock_switches must be a list of rp-mock switches");
    for (const auto& e : sw) {
      if (!e.IsMap() || !e["service"]) Fail(e, "a mock switch is a mapping with a 'service'");
      CheckSwitch(e);
    }
    s.mock_switches_json = YamlToJson(sw).dump();
  }
  if (YAML::Node sc = m.Get("server")) ReadServerConfig(sc, s);
  m.ReadString("ledger", s.ledger, LedgerEngineNames());
  m.Read<int>("instances", s.instances, 1, 8);
  m.RejectUnknown(
      {"claim_scheme", "redis", "mock_switches", "ledger", "instances", "server"},
      "(rp-server's own settings go under system.server, in rp-server's keys: `rp-server config` "
      "lists them)");
  if (SystemNeedsRedis(s) && !s.redis) {
    Fail(m.Get("claim_scheme") ? m.Get("claim_scheme") : m.node(),
         "system.redis must be true for claim_scheme " + s.claim_scheme +
             " (or async.queue: redis_streams)");
  }
}

Phase ReadPhase(const YAML::Node& n, const std::string& model) {
  Map m(n, "load.phases[]");
  Phase p;
  m.ReadString("name", p.name);
  m.Read<int64_t>("duration_s", p.duration_s, 1, 86400);
  m.ReadString("shape", p.shape, {"constant", "ramp", "spike", "waves"});
  m.Read<double>("rate", p.rate, 0, 1e6);
  p.rate_end = p.rate;
  m.Read<double>("rate_end", p.rate_end, 0, 1e6);
  m.Read<double>("spike_rate", p.spike_rate, 0, 1e6);
  m.Read<int64_t>("spike_at_s", p.spike_at_s, 0, 86400);
  m.Read<int64_t>("spike_s", p.spike_s, 0, 86400);
  m.Read<int64_t>("wave_period_s", p.wave_period_s, 0, 86400);
  m.Read<int64_t>("wave_on_s", p.wave_on_s, 0, 86400);
  m.Read<int>("users", p.users, 0, 100000);
  m.Read<int64_t>("think_ms", p.think_ms, 0, 3600000);
  m.ReadBudget("unanswered_max", p.unanswered_max);
  m.RejectUnknown({"name", "duration_s", "shape", "rate", "rate_end", "spike_rate", "spike_at_s",
                   "spike_s", "wave_period_s", "wave_on_s", "users", "think_ms", "unanswered_max"});
  if (p.duration_s == 0) Fail(n, "a phase needs duration_s");
  if (model == "closed" && p.users == 0) Fail(n, "a closed-model phase needs users > 0");
  if (model == "open" && p.users != 0) Fail(n, "users belongs to the closed model; use rate");
  if (p.shape == "waves" && (p.wave_period_s == 0 || p.wave_on_s > p.wave_period_s)) {
    Fail(n, "waves need wave_period_s > 0 and wave_on_s <= wave_period_s");
  }
  if (p.shape == "spike" && p.spike_s == 0) Fail(n, "a spike needs spike_s > 0 and spike_rate");
  // RateAt gives spike_rate during the spike: left out, the spike would be a hole in the load.
  if (p.shape == "spike" && !(p.spike_rate > 0)) {
    Fail(m.Get("spike_rate") ? m.Get("spike_rate") : n,
         "a spike needs spike_rate > 0 (journeys per second during the spike); without it the "
         "spike plans no arrivals at all");
  }
  return p;
}

void ReadLoad(const Map& m, LoadSpec& l) {
  m.ReadString("model", l.model, {"open", "closed"});
  m.Read<int>("connections", l.connections, 1, 20000);
  m.Read<int>("journeys_in_flight_max", l.journeys_in_flight_max, 1, 1000000);
  m.Read<double>("dropped_percent_max", l.dropped_percent_max, 0.0, 100.0);
  m.Read<double>("arrival_lag_p99_ms_max", l.arrival_lag_p99_ms_max, 0.0, 600000.0);
  m.Read<int64_t>("request_timeout_ms", l.request_timeout_ms, 10, 600000);
  YAML::Node phases = m.Get("phases");
  if (!phases || !phases.IsSequence() || phases.size() == 0) {
    Fail(phases ? phases : YAML::Node(), "load.phases must be a non-empty list");
  }
  for (const auto& p : phases) l.phases.push_back(ReadPhase(p, l.model));
  m.RejectUnknown({"model", "connections", "journeys_in_flight_max", "dropped_percent_max",
                   "arrival_lag_p99_ms_max", "request_timeout_ms", "phases"});
}

void ReadFlows(const Map& m, FlowSpec& f) {
  if (YAML::Node n = m.Get("c2c")) {
    Map c(n, "flows.c2c");
    c.Read<double>("weight", f.c2c.weight, 0, 1e6);
    c.ReadRange("count", f.c2c.count, 1, 10000);
    c.ReadRange("share_cents", f.c2c.share_cents, 1, 20000);
    c.ReadRange("claimers", f.c2c.claimers, 0, 10000);
    c.Read<double>("repeat_claim_rate", f.c2c.repeat_claim_rate, 0, 1);
    c.ReadString("split", f.c2c.split, {"random", "even"});
    c.RejectUnknown({"weight", "count", "share_cents", "claimers", "repeat_claim_rate", "split"});
  }
  if (YAML::Node n = m.Get("b2c")) {
    Map b(n, "flows.b2c");
    b.Read<double>("weight", f.b2c.weight, 0, 1e6);
    b.ReadString("round", f.b2c.round);
    b.Read<int64_t>("budget_cents", f.b2c.budget_cents, 1, int64_t{1} << 50);
    b.Read<int64_t>("min_cents", f.b2c.min_cents, 1, 200'000'000);
    b.Read<int64_t>("max_cents", f.b2c.max_cents, 1, 200'000'000);
    b.ReadRange("count", f.b2c.count, 1, 10000);
    b.ReadRange("claimers", f.b2c.claimers, 0, 10000);
    b.RejectUnknown(
        {"weight", "round", "budget_cents", "min_cents", "max_cents", "count", "claimers"});
    if (f.b2c.min_cents > f.b2c.max_cents) Fail(n, "flows.b2c needs min_cents <= max_cents");
  }
  if (YAML::Node n = m.Get("hot")) {
    Map h(n, "flows.hot");
    h.Read<double>("weight", f.hot.weight, 0, 1e6);
    h.Read<int>("packets", f.hot.packets, 1, 100);
    h.Read<int64_t>("shares", f.hot.shares, 1, 10000);
    h.Read<int64_t>("share_cents", f.hot.share_cents, 1, 20000);
    h.RejectUnknown({"weight", "packets", "shares", "share_cents"});
  }
  m.RejectUnknown({"c2c", "b2c", "hot"});
  if (f.c2c.weight + f.b2c.weight + f.hot.weight <= 0) {
    Fail(m.Get("c2c") ? m.Get("c2c") : m.Get("hot"), "flows need a positive weight somewhere");
  }
}

// Every key and string of the file is UTF-8 text, checked before anything is read: a stray byte
// would otherwise pass every check and end the run at its last step (summary.json is JSON, and
// JSON is UTF-8). `where` names the field: "description", "load.phases[0].name". Bounded as
// YamlToJson is (an alias counts each time it is reached): a billion laughs stops here, saying so.
void CheckUtf8(const YAML::Node& n, const std::string& where, int depth, int64_t* values) {
  if (++*values > kYamlJsonValuesMax || depth > kYamlJsonDepthMax) {
    Fail(n, *values > kYamlJsonValuesMax
                ? "more than " + std::to_string(kYamlJsonValuesMax) +
                      " values once its aliases are expanded"
                : "nested deeper than " + std::to_string(kYamlJsonDepthMax));
  }
  const std::string field = where.empty() ? "the scenario" : where;
  if (n.IsScalar()) {
    const size_t bad = FirstInvalidUtf8(n.Scalar());
    if (bad != std::string::npos) {
      Fail(n, field + " is not valid UTF-8 (byte " + std::to_string(bad + 1) + " of its text)");
    }
  } else if (n.IsSequence()) {
    size_t i = 0;
    for (const auto& item : n) {
      CheckUtf8(item, field + "[" + std::to_string(i++) + "]", depth + 1, values);
    }
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (FirstInvalidUtf8(key) != std::string::npos) {
        Fail(kv.first, "a key in " + field + " is not valid UTF-8");
      }
      CheckUtf8(kv.second, where.empty() ? key : where + "." + key, depth + 1, values);
    }
  }
}

// The name becomes a folder under results/ (results/<name>-<time>-<scheme>): one plain path
// component, never a way out of results/ ("../x", "/etc/x") or a hidden folder.
bool IsSafeName(const std::string& name) {
  return !name.empty() && name.size() <= 100 && name[0] != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
}

Scenario Read(const YAML::Node& root, const std::string& path) {
  int64_t values = 0;
  CheckUtf8(root, "", 0, &values);
  Map m(root, "the scenario");
  Scenario s;
  s.path = path;
  m.ReadString("name", s.name);
  m.ReadString("description", s.description);
  m.Read<uint64_t>("seed", s.seed, 0, UINT64_MAX);
  if (YAML::Node n = m.Get("system")) ReadSystem(Map(n, "system"), s.system);
  if (YAML::Node n = m.Get("users")) {
    Map u(n, "users");
    u.Read<int64_t>("count", s.users, 1, 100'000'000);
    u.Read<int64_t>("first_id", s.first_user_id, 1, int64_t{1} << 40);
    u.RejectUnknown({"count", "first_id"});
  }
  if (!m.Get("load")) Fail(root, "the scenario needs a load section");
  ReadLoad(Map(m.Get("load"), "load"), s.load);
  if (!m.Get("flows")) Fail(root, "the scenario needs a flows section");
  ReadFlows(Map(m.Get("flows"), "flows"), s.flows);
  if (YAML::Node n = m.Get("faults")) ReadFaults(n, s.faults);
  if (YAML::Node n = m.Get("checks")) ReadChecks(n, s);
  m.RejectUnknown(
      {"name", "description", "seed", "system", "users", "load", "flows", "faults", "checks"});
  if (s.name.empty()) Fail(root, "the scenario needs a name");
  if (!IsSafeName(s.name)) {
    Fail(m.Get("name"), "name '" + s.name +
                            "' must be 1-100 characters of [A-Za-z0-9_.-], not starting with '.' "
                            "(it names the run's folder under results/)");
  }
  for (const Fault& f : s.faults) {
    if (f.at_s >= static_cast<double>(s.DurationS())) {
      throw ScenarioError("line " + std::to_string(f.line) + ": fault at_s " +
                          std::to_string(f.at_s) + " is after the load ends (" +
                          std::to_string(s.DurationS()) + " s)");
    }
  }
  if (Status fits = CheckSystemFits(s); !fits.ok()) throw ScenarioError(fits.message());
  return s;
}

}  // namespace

const std::vector<OwnedServerKey>& RpSimOwnedServerKeys() {
  static const std::vector<OwnedServerKey> kOwned = {
      {"server.host", "loopback"},
      {"server.port", "a free loopback port per instance"},
      {"secrets.*", "fresh random secrets per run"},
      {"ledger.engine", "system.ledger or --ledger"},
      {"ledger.path", "the run's work directory"},
      {"ledger.url", "the PostgreSQL rp-sim starts"},
      {"claim.scheme", "system.claim_scheme or --claim-scheme"},
      {"redis.url", "system.redis: the redis-server rp-sim starts"},
      {"mocks.url", "the rp-mock rp-sim starts"},
      {"payment.url", "the rp-mock rp-sim starts"},
      {"payment.notify_url", "the proxy or the instance"},
      {"wallet.url", "the rp-mock rp-sim starts"},
      {"reward.url", "the rp-mock rp-sim starts"},
      {"social.url", "the rp-mock rp-sim starts"},
      {"rng.seed", "the scenario's seed"},
  };
  return kOwned;
}

const nlohmann::json* ServerConfigKey(const SystemSpec& s, const std::string& dotted) {
  const size_t dot = dotted.find('.');
  if (dot == std::string::npos) return nullptr;
  auto section = s.server_config.find(dotted.substr(0, dot));
  if (section == s.server_config.end() || !section->is_object()) return nullptr;
  auto key = section->find(dotted.substr(dot + 1));
  return key == section->end() ? nullptr : &*key;
}

bool SystemNeedsRedis(const SystemSpec& s) {
  const ClaimSchemeInfo* scheme = FindClaimScheme(s.claim_scheme);
  const nlohmann::json* queue = ServerConfigKey(s, "async.queue");
  return (scheme != nullptr && scheme->needs_redis) ||
         (queue != nullptr && queue->is_string() && *queue == "redis_streams");
}

Status CheckSystemFits(const Scenario& s) {
  const SystemSpec& sys = s.system;
  if (const LedgerEngineInfo* engine = FindLedgerEngine(sys.ledger);
      sys.instances > 1 && (engine == nullptr || !engine->shared)) {
    return Status(Error::kBadScenario, "system.instances: " + std::to_string(sys.instances) +
                                           " needs system.ledger: postgres (instances share one "
                                           "ledger; the embedded one belongs to one process)");
  }
  int paused = 0;  // server_pause without its server_resume yet.
  for (const Fault& f : s.faults) {
    const std::string at = "line " + std::to_string(f.line) + ": " + Name(f.action);
    paused += f.action == FaultAction::kServerPause    ? 1
              : f.action == FaultAction::kServerResume ? -1
                                                       : 0;
    if (paused < 0 || paused > 1) {
      return Status(Error::kBadScenario, at + ": server_pause and server_resume alternate, "
                                              "starting with server_pause");
    }
    const ClaimSchemeInfo* restart_as =
        f.claim_scheme.empty() ? nullptr : FindClaimScheme(f.claim_scheme);
    if (restart_as != nullptr && restart_as->needs_redis && !sys.redis) {
      return Status(Error::kBadScenario,
                    at + " under " + f.claim_scheme + " needs system.redis: true");
    }
    if (Status fits = scenario_internal::FaultFits(f, sys, at); !fits.ok()) return fits;
  }
  if (paused != 0) {
    return Status(Error::kBadScenario,
                  "a server_pause needs a server_resume after it (a frozen "
                  "server cannot be verified)");
  }
  return Status::Ok();
}

double Phase::RateAt(double t_s) const {
  if (shape == "ramp") {
    const double f =
        duration_s > 0 ? std::clamp(t_s / static_cast<double>(duration_s), 0.0, 1.0) : 1.0;
    return rate + (rate_end - rate) * f;
  }
  if (shape == "spike" && t_s >= static_cast<double>(spike_at_s) &&
      t_s < static_cast<double>(spike_at_s + spike_s)) {
    return spike_rate;
  }
  if (shape == "waves") {
    const double in_period = std::fmod(t_s, static_cast<double>(wave_period_s));
    return in_period < static_cast<double>(wave_on_s) ? rate : 0;
  }
  return rate;
}

double Scenario::PlannedRateAt(double t_s) const {
  if (load.model != "open") return 0;
  double begin = 0;
  for (const Phase& p : load.phases) {
    const double end = begin + static_cast<double>(p.duration_s);
    if (t_s >= begin && t_s < end) return p.RateAt(t_s - begin);
    begin = end;
  }
  return 0;
}

int64_t Scenario::DurationS() const {
  int64_t total = 0;
  for (const Phase& p : load.phases) total += p.duration_s;
  return total;
}

void Scenario::ScaleTo(int64_t duration_s) {
  const int64_t old_total = DurationS();
  if (duration_s <= 0 || old_total <= 0) return;
  const double f = static_cast<double>(duration_s) / static_cast<double>(old_total);
  auto scale = [f](int64_t v) { return std::max<int64_t>(v > 0 ? 1 : 0, std::llround(v * f)); };
  for (Phase& p : load.phases) {
    p.duration_s = std::max<int64_t>(1, std::llround(p.duration_s * f));
    p.spike_at_s = std::llround(p.spike_at_s * f);
    p.spike_s = scale(p.spike_s);
    p.wave_period_s = scale(p.wave_period_s);
    p.wave_on_s = std::min(p.wave_period_s, scale(p.wave_on_s));
  }
  const double end = static_cast<double>(DurationS());
  for (Fault& fault : faults) fault.at_s = std::min(fault.at_s * f, std::max(0.0, end - 0.5));
}

bool PhaseWindow(const std::vector<Phase>& phases, const std::string& name, double* start_s,
                 double* end_s) {
  int64_t at_s = 0;
  for (const Phase& p : phases) {
    if (p.name == name) {
      *start_s = static_cast<double>(at_s);
      *end_s = static_cast<double>(at_s + p.duration_s);
      return true;
    }
    at_s += p.duration_s;
  }
  return false;
}

namespace {

Result<Scenario> ReadGuarded(const std::function<YAML::Node()>& load, const std::string& path) {
  try {
    return Read(load(), path);
  } catch (const ScenarioError& e) {
    const std::string what = e.what();  // "line N: ..." becomes "path:N: ...".
    const bool lined = what.rfind("line ", 0) == 0;
    return Status(Error::kBadScenario, path + (lined ? ":" + what.substr(5) : ": " + what));
  } catch (const YAML::Exception& e) {
    return Status(Error::kBadScenario, path + ": " + e.what());
  }
}

}  // namespace

Result<Scenario> LoadScenario(const std::string& path) {
  return ReadGuarded([&path] { return YAML::LoadFile(path); }, path);
}

Result<Scenario> ParseScenarioText(const std::string& text, const std::string& path) {
  return ReadGuarded([&text] { return YAML::Load(text); }, path);
}

}  // namespace rp::sim
