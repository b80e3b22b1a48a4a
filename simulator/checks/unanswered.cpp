#include "simulator/checks/unanswered.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace rp::sim {
namespace {

using nlohmann::json;

constexpr double kNever = std::numeric_limits<double>::infinity();

// When fault i is over (seconds since the load started): its own action done, or the action
// that ends it; kNever when that never finished.
double FaultOverS(const Scenario& s, const std::vector<FaultRecord>& records, size_t i) {
  if (i >= records.size()) return kNever;
  const Fault& f = s.faults[i];
  const FaultActionInfo& opened = Info(f.action);
  if (!opened.ended_by[0]) return records[i].ended_s;  // Over when its own action is done.
  for (size_t j = i + 1; j < s.faults.size(); ++j) {
    const Fault& g = s.faults[j];
    const auto& ends = opened.ended_by;
    if (std::find(ends.begin(), ends.end(), g.action) == ends.end()) continue;
    // One instance's restart ends that instance's fault only.
    if (Info(g.action).takes_instance && g.instance != f.instance) continue;
    return j < records.size() ? records[j].ended_s : kNever;
  }
  return records[i].ended_s;
}

std::vector<UnansweredWindow> Windows(const Scenario& s, const std::vector<FaultRecord>& records) {
  std::vector<UnansweredWindow> windows;
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const Fault& f = s.faults[i];
    if (f.unanswered_max < 0) continue;
    UnansweredWindow w;
    w.action = Name(f.action);
    w.planned_s = f.at_s;
    w.start_s = i < records.size() ? records[i].started_s : f.at_s;
    w.end_s = FaultOverS(s, records, i) + f.unanswered_recovery_s;
    w.max = f.unanswered_max;
    windows.push_back(std::move(w));
  }
  return windows;
}

// The phase a request sent at sent_s belongs to; after the last phase, the last.
size_t PhaseOf(const Scenario& s, double sent_s) {
  if (s.load.phases.empty()) return 0;
  double end_s = 0;
  for (size_t i = 0; i < s.load.phases.size(); ++i) {
    end_s += static_cast<double>(s.load.phases[i].duration_s);
    if (sent_s < end_s) return i;
  }
  return s.load.phases.size() - 1;
}

std::string Seconds(double s, int digits = 1) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, s);
  return text;
}

std::string Limit(int64_t max) {
  return max == kUnansweredAll ? std::string("any number") : "<= " + std::to_string(max);
}

std::string WindowText(const UnansweredWindow& w) {
  return w.action + " at " + Seconds(w.planned_s) + " s (window " + Seconds(w.start_s) + "-" +
         (std::isinf(w.end_s) ? std::string("end") : Seconds(w.end_s)) + " s)";
}

}  // namespace

std::string CountsText(const std::map<std::string, int64_t>& counts) {
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [name, n] : sorted) {
    out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
  }
  return out;
}

UnansweredFigures PlaceUnanswered(const Scenario& s, const RunStats& stats,
                                  const std::vector<FaultRecord>& records) {
  UnansweredFigures u;
  for (const auto& [name, op] : stats.ops()) {
    u.requests += op.requests;
    if (op.unanswered == 0) continue;
    u.total += op.unanswered;
    u.by_op[name] += op.unanswered;
    for (const auto& [cause, n] : op.unanswered_by_cause) u.by_cause[cause] += n;
  }
  u.windows = Windows(s, records);
  for (const Phase& p : s.load.phases) u.phases.push_back({p.name, p.unanswered_max, 0, 0, {}});
  if (u.phases.empty()) u.phases.push_back({"load", 0, 0, 0, {}});  // A plan has phases.
  u.budgeted =
      !u.windows.empty() || std::any_of(s.load.phases.begin(), s.load.phases.end(),
                                        [](const Phase& p) { return p.unanswered_max != 0; });
  std::vector<UnansweredRequest> sent = stats.unanswered();
  std::stable_sort(sent.begin(), sent.end(),
                   [](const auto& a, const auto& b) { return a.invoked_ms < b.invoked_ms; });
  for (const UnansweredRequest& r : sent) {
    // Times are whole milliseconds, floored: a request that ended in the millisecond a fault
    // started ended at or after its start as far as anyone can tell, so it is judged by the
    // latest instant it may have ended (a request lost at 4.920 s to a restart begun at 4.9203 s
    // is the restart's).
    const double sent_s = static_cast<double>(r.invoked_ms) / 1000.0;
    const double done_s = static_cast<double>(r.completed_ms + 1) / 1000.0;
    UnansweredPhase& phase = u.phases[PhaseOf(s, sent_s)];
    ++phase.count;
    ++phase.by_op[r.op];
    auto w = std::find_if(u.windows.begin(), u.windows.end(), [&](const UnansweredWindow& in) {
      return sent_s <= in.end_s && done_s >= in.start_s;
    });
    const bool beyond = w != u.windows.end() ? (++w->by_op[r.op], ++w->count > w->max)
                                             : ++phase.outside_windows > phase.max;
    if (beyond && !u.first_beyond) {
      u.first_beyond = r;
      u.first_beyond_where =
          w != u.windows.end() ? "the window of " + WindowText(*w) : "phase " + phase.name;
    }
  }
  u.not_placed = stats.unanswered_not_kept();
  u.within_budget = !u.first_beyond && u.not_placed == 0;
  return u;
}

CheckResult UnansweredCheck(const UnansweredFigures& u) {
  CheckResult c;
  c.kind = "plan";
  c.check = u.budgeted ? "unanswered <= budget" : "unanswered == 0";
  c.actual = static_cast<double>(u.total);
  c.passed = u.within_budget;
  c.detail =
      "unanswered = " + std::to_string(u.total) + " of " + std::to_string(u.requests) + " requests";
  if (u.total > 0) c.detail += " (" + CountsText(u.by_op) + "; " + CountsText(u.by_cause) + ")";
  if (!u.budgeted) {
    c.detail += ", limit == 0";
  } else {
    for (const UnansweredWindow& w : u.windows) {
      c.detail += "; " + WindowText(w) + ": " + std::to_string(w.count) + ", limit " + Limit(w.max);
    }
    for (const UnansweredPhase& p : u.phases) {
      c.detail += "; phase " + p.name +
                  " outside those windows: " + std::to_string(p.outside_windows) + ", limit " +
                  Limit(p.max);
    }
  }
  if (u.first_beyond) {
    const UnansweredRequest& r = *u.first_beyond;
    c.detail += "; first beyond its budget: " + r.op + " sent at " +
                Seconds(static_cast<double>(r.invoked_ms) / 1000.0, 2) + " s in " +
                u.first_beyond_where + ", " + NoAnswerName(r.cause) + " after " +
                Seconds(static_cast<double>(r.completed_ms - r.invoked_ms) / 1000.0, 2) + " s";
  }
  if (u.not_placed > 0) {
    c.detail += "; " + std::to_string(u.not_placed) +
                " more were counted but not kept, so not placed in a budget";
  }
  if (!c.passed) {
    c.detail += u.budgeted ? "; requests went unanswered beyond what the scenario budgets"
                           : "; every request must be answered unless the scenario budgets "
                             "(a fault's or a phase's unanswered_max)";
  }
  return c;
}

json UnansweredJson(const UnansweredFigures& u) {
  auto max_json = [](int64_t max) { return max == kUnansweredAll ? json("all") : json(max); };
  json phases = json::array(), windows = json::array();
  for (const UnansweredPhase& p : u.phases) {
    phases.push_back({{"phase", p.name},
                      {"unanswered", p.count},
                      {"by_op", p.by_op},
                      {"outside_windows", p.outside_windows},
                      {"max", max_json(p.max)}});
  }
  for (const UnansweredWindow& w : u.windows) {
    windows.push_back({{"action", w.action},
                       {"planned_s", w.planned_s},
                       {"start_s", w.start_s},
                       {"end_s", std::isinf(w.end_s) ? json() : json(w.end_s)},
                       {"unanswered", w.count},
                       {"by_op", w.by_op},
                       {"max", max_json(w.max)}});
  }
  json out = {{"requests", u.requests},     {"unanswered", u.total},
              {"by_op", u.by_op},           {"by_cause", u.by_cause},
              {"by_phase", phases},         {"fault_windows", windows},
              {"not_placed", u.not_placed}, {"within_budget", u.within_budget}};
  if (u.first_beyond) {
    out["first_beyond_budget"] = {{"op", u.first_beyond->op},
                                  {"cause", NoAnswerName(u.first_beyond->cause)},
                                  {"invoked_ms", u.first_beyond->invoked_ms},
                                  {"completed_ms", u.first_beyond->completed_ms},
                                  {"where", u.first_beyond_where}};
  }
  return out;
}

}  // namespace rp::sim
