// summary.json as one struct: rp-sim fills a RunSummary and writes it; its report, its
// end-of-run print, compare and rp-dash read the same struct back (FromJson), so a field is named
// once, here, not as a key string in every reader. docs/scenarios.md documents each field.
// nlohmann/json's macros derive both directions from the field lists below; reading fills a key
// the file lacks with the field's default, so summaries of older versions still load (readers
// check schema_version when a meaning changed). The parts whose shape is their own document
// (cost, unanswered, server counters, the server's settings) stay JSON objects. Plain data;
// thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::results {

inline constexpr const char* kSummarySchema = "redpacket-lab/rp-sim-summary";
// Grows when a field changes meaning or goes away; new fields may appear without a bump, so
// readers ignore what they do not know. 4: `system` carries the server's config and settings.
inline constexpr int kSummarySchemaVersion = 4;

struct SummarySystem {
  std::string claim_scheme;
  bool redis = false;
  nlohmann::json server_config = nlohmann::json::object();    // The scenario's system.server.
  nlohmann::json server_settings = nlohmann::json::object();  // What rp-server resolved.
  bool started_by_rp_sim = true;
  std::string ledger = "sqlite";  // "unknown" for a --target.
  int instances = 1;
};

struct SummaryLoad {
  std::string model;
  int connections = 0;
  double duration_s = 0;
  int64_t planned_duration_s = 0;
  int64_t started_at_unix_ms = 0;
  int64_t offered_arrivals = 0;
  int64_t dropped_arrivals = 0;
  double arrival_lag_ms_p99 = 0;
  double arrival_lag_ms_max = 0;
  std::vector<double> planned_arrivals_per_s;
  bool aborted = false;
  std::string aborted_by;
};

struct SummaryPhase {
  std::string name;
  double start_s = 0;
  double end_s = 0;
};

struct SummaryOp {
  int64_t requests = 0;
  int64_t errors = 0;
  double error_rate_percent = 0;
  double throughput_per_s = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  int64_t refused = 0;
  int64_t degraded = 0;
  double admitted_p99_ms = 0;
  double ok_p99_ms = 0;
  int64_t unanswered = 0;
  std::map<std::string, int64_t> unanswered_by_cause;
  std::map<std::string, int64_t> by_status;  // "201" -> count.
};

// The money verification's outcome: rp-sim's verifier fills it (simulator/verify) and the summary
// carries it as it is.
struct SummaryVerification {
  bool ok = false;
  int64_t packets_checked = 0;
  int64_t claims_checked = 0;       // Claims read back from the server.
  int64_t claims_acknowledged = 0;  // Claims the simulator was granted.
  int64_t packets_unsettled = 0;    // Still open when the settle wait ended.
  bool transfers_checked = false;   // False without rp-mock (no wallet records to read).
  // /admin/recon answered with its report. False when it never did (the server was down, or
  // answered something else): recon_clean, recon_drift_cents and recon_discrepancies then say
  // nothing, and a recon check must not read their zeros as clean. (Summaries written before
  // the field existed read as true: FromJson.)
  bool recon_answered = false;
  bool recon_clean = false;
  int64_t recon_drift_cents = 0;
  int64_t recon_discrepancies = 0;
  int64_t history_events = 0;     // Money-moving requests in the history.
  int64_t unknown_outcomes = 0;   // Claims the client never learned the outcome of.
  int64_t unknown_committed = 0;  // ... of which the ledger has (taken, once).
  // Packets whose claims could not be read back (an error, or degraded pages past the wait):
  // each is one violation, and their claims are not held against the history.
  int64_t packets_unreadable = 0;
  std::vector<std::string> violations;  // The first ones (a bounded list)...
  int64_t violations_total = 0;         // ... and how many there were in all.
};

struct SummaryFault {
  std::string action;
  double planned_s = 0;
  double started_s = 0;
  double ended_s = 0;
  bool ok = false;
  std::string detail;
};

struct SummaryCheck {
  std::string check;
  std::string kind = "scenario";  // "scenario" | "plan".
  bool passed = false;
  nlohmann::json actual;  // A number in the limit's unit; null when it could not be measured.
  std::string detail;
};

struct RunSummary {
  std::string schema = kSummarySchema;
  int schema_version = kSummarySchemaVersion;
  std::string scenario;
  std::string scenario_file;
  std::string description;
  uint64_t seed = 0;
  std::string started_at;
  std::map<std::string, std::string> versions;  // "rp_sim" -> git describe.
  std::string target;
  SummarySystem system;
  SummaryLoad load;
  std::vector<SummaryPhase> phases;
  double healthz_ceiling_rps = 0;
  std::vector<double> healthz_ceiling_samples_rps;
  nlohmann::json cost = nlohmann::json::object();
  std::map<std::string, SummaryOp> ops;
  nlohmann::json unanswered = nlohmann::json::object();
  nlohmann::json server = nlohmann::json::object();
  SummaryVerification verification;
  std::vector<SummaryFault> faults;
  std::vector<SummaryCheck> checks;
  bool passed = false;
  nlohmann::json exact;  // rp-sim --exact only (null otherwise, and then not written).
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummarySystem, claim_scheme, redis, server_config,
                                                server_settings, started_by_rp_sim, ledger,
                                                instances)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryLoad, model, connections, duration_s,
                                                planned_duration_s, started_at_unix_ms,
                                                offered_arrivals, dropped_arrivals,
                                                arrival_lag_ms_p99, arrival_lag_ms_max,
                                                planned_arrivals_per_s, aborted, aborted_by)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryPhase, name, start_s, end_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryOp, requests, errors, error_rate_percent,
                                                throughput_per_s, p50_ms, p90_ms, p99_ms, max_ms,
                                                refused, degraded, admitted_p99_ms, ok_p99_ms,
                                                unanswered, unanswered_by_cause, by_status)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryVerification, ok, packets_checked,
                                                claims_checked, claims_acknowledged,
                                                packets_unsettled, transfers_checked,
                                                recon_answered, recon_clean, recon_drift_cents,
                                                recon_discrepancies, history_events,
                                                unknown_outcomes, unknown_committed,
                                                packets_unreadable, violations, violations_total)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryFault, action, planned_s, started_s, ended_s,
                                                ok, detail)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SummaryCheck, check, kind, passed, actual, detail)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunSummary, schema, schema_version, scenario,
                                                scenario_file, description, seed, started_at,
                                                versions, target, system, load, phases,
                                                healthz_ceiling_rps, healthz_ceiling_samples_rps,
                                                cost, ops, unanswered, server, verification, faults,
                                                checks, passed, exact)

// summary.json's text form of s (`exact` left out when null).
nlohmann::json ToJson(const RunSummary& s);
// Reads a summary: InvalidArgument ("bad_results") when j is not an object of this schema or a
// field has the wrong type (nlohmann's message: the type expected and the one found).
Result<RunSummary> FromJson(const nlohmann::json& j);

}  // namespace rp::results
