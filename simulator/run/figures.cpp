#include "simulator/run/figures.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/results/run_summary.h"
#include "common/version/build_info.h"
#include "simulator/stats/rank_test.h"

namespace rp::sim {

using nlohmann::json;

namespace {

const results::SummaryOp& Op(const results::RunSummary& s, const char* op) {
  static const results::SummaryOp kNone;
  auto it = s.ops.find(op);
  return it == s.ops.end() ? kNone : it->second;
}

double ByStatus(const results::SummaryOp& op, std::initializer_list<const char*> codes) {
  double n = 0;
  for (const char* code : codes) {
    auto it = op.by_status.find(code);
    if (it != op.by_status.end()) n += static_cast<double>(it->second);
  }
  return n;
}

// The cost figures of summary.json's "cost" (null where not measured), copied as they are.
constexpr const char* kCostKeys[] = {
    "cpu_per_claim_in_healthz",    "healthz_cpu_us_per_request", "cpu_ms_per_claim",
    "commits_per_claim",           "claim_commits_per_claim",    "statements_per_claim",
    "redis_round_trips_per_claim", "lock_wait_ms_per_claim",     "pool_wait_ms_per_claim"};

}  // namespace

json Figures(const json& summary) {
  json errors = json::array();
  Result<results::RunSummary> read = results::FromJson(summary);
  if (!read.ok()) errors.push_back(read.status().ToString());
  const results::RunSummary s = read.ok() ? *read : results::RunSummary{};
  const double ceiling = s.healthz_ceiling_rps;
  const results::SummaryOp& claim = Op(s, "claim");
  const double claims_per_s = claim.throughput_per_s;
  json per_ceiling = nullptr;
  if (ceiling > 0 && claims_per_s / ceiling > 1) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "claims/s per ceiling %.3f > 1 (more claims than /healthz answers): the ceiling "
                  "samples %s were not this run's machine; left out",
                  claims_per_s / ceiling, json(s.healthz_ceiling_samples_rps).dump().c_str());
    errors.push_back(line);
  } else if (ceiling > 0) {
    per_ceiling = claims_per_s / ceiling;
  }
  json row = {{"scheme", s.system.claim_scheme},
              {"claims_per_s", claims_per_s},
              {"healthz_ceiling_rps", ceiling},
              {"claims_per_s_per_ceiling", per_ceiling},
              {"claim_p50_ms", claim.p50_ms},
              {"claim_p99_ms", claim.p99_ms},
              {"claim_requests", static_cast<double>(claim.requests)},
              {"claim_errors", static_cast<double>(claim.errors)},
              {"claims_won", ByStatus(claim, {"201"})},
              {"claims_refused", ByStatus(claim, {"409", "410"})},
              {"verification_ok", s.verification.ok},
              {"passed", s.passed},
              {"measurement_errors", errors}};
  for (const char* key : kCostKeys) row[key] = s.cost.value(key, json());
  row["instructions_per_claim"] =
      s.exact.is_object() ? s.exact.value("instructions_per_claim", json()) : json();
  return row;
}

json MedianRow(const std::vector<json>& runs) {
  json row = runs.front();
  row["runs"] = static_cast<int>(runs.size());
  json spread = json::object(), errors = json::array();
  std::set<std::string> keys;
  for (const json& r : runs) {
    for (const auto& [key, value] : r.items()) keys.insert(key);
    for (const json& e : r.value("measurement_errors", json::array())) errors.push_back(e);
  }
  for (const std::string& key : keys) {
    std::vector<double> v;
    bool all = true, boolean = false;
    for (const json& r : runs) {
      const json value = r.value(key, json());
      if (value.is_boolean()) boolean = true, all = all && value.get<bool>();
      if (value.is_number()) v.push_back(value.get<double>());
    }
    if (boolean) row[key] = all;
    if (v.empty()) continue;
    row[key] = MedianOf(v);
    std::sort(v.begin(), v.end());
    spread[key] = {v.front(), v.back()};
  }
  row["measurement_errors"] = errors;
  if (runs.size() > 1) row["spread"] = spread;
  return row;
}

std::string WithRange(const json& row, const char* key, const char* format) {
  const json value = row.value(key, json());
  if (!value.is_number()) return "—";
  char buf[128];
  std::snprintf(buf, sizeof buf, format, value.get<double>());
  std::string out = buf;
  if (!row.contains("spread") || !row["spread"].contains(key)) return out;
  const json& range = row["spread"][key];
  if (range[0] == range[1]) return out;
  std::string lo(64, '\0'), hi(64, '\0');
  lo.resize(
      static_cast<size_t>(std::snprintf(lo.data(), lo.size(), format, range[0].get<double>())));
  hi.resize(
      static_cast<size_t>(std::snprintf(hi.data(), hi.size(), format, range[1].get<double>())));
  return out + " (" + lo + "–" + hi + ")";
}

void WriteFigureTable(std::ostream& md, const json& rows) {
  md << "| scheme | runs | CPU / claim in /healthz answers | CPU ms / claim | statements / claim | "
        "claim commits / claim | "
        "Redis trips / claim | lock wait ms / claim | claims/s | ÷ /healthz ceiling | won | "
        "p99 ms | claim errors | verification | passed |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const json& r : rows) {
    md << "| " << r.value("scheme", "") << " | " << r.value("runs", 1) << " | "
       << WithRange(r, "cpu_per_claim_in_healthz", "%.2f") << " | "
       << WithRange(r, "cpu_ms_per_claim", "%.3f") << " | "
       << WithRange(r, "statements_per_claim", "%.2f") << " | "
       << WithRange(r, "claim_commits_per_claim", "%.3f") << " | "
       << WithRange(r, "redis_round_trips_per_claim", "%.2f") << " | "
       << WithRange(r, "lock_wait_ms_per_claim", "%.2f") << " | "
       << WithRange(r, "claims_per_s", "%.0f") << " | "
       << WithRange(r, "claims_per_s_per_ceiling", "%.3f") << " | "
       << WithRange(r, "claims_won", "%.0f") << " | " << WithRange(r, "claim_p99_ms", "%.1f")
       << " | " << WithRange(r, "claim_errors", "%.0f") << " | "
       << (r.value("verification_ok", false) ? "ok" : "FAILED") << " | "
       << (r.value("passed", false) ? "yes" : "no") << " |\n";
  }
  if (!rows.empty() && rows[0].contains("instructions_per_claim") &&
      rows[0]["instructions_per_claim"].is_number()) {
    md << "\nExact mode (callgrind), instructions per claim won:";
    for (const json& r : rows) {
      md << " " << r.value("scheme", "") << " " << WithRange(r, "instructions_per_claim", "%.0f")
         << ";";
    }
    md << "\n";
  }
}

json BuildJson() {
  const BuildInfo& b = ThisBuild();
  return {{"kind", b.Kind()},
          {"build_type", b.build_type},
          {"sanitizers", b.sanitizers},
          {"cxx_flags", b.cxx_flags},
          {"compiler", b.compiler},
          {"allocator", b.allocator},
          {"fault_injection", b.fault_injection},
          {"commit", b.commit}};
}

json MachineJson() {
  return {{"cpu_model", CpuModel()}, {"cores", sysconf(_SC_NPROCESSORS_ONLN)}};
}

}  // namespace rp::sim
