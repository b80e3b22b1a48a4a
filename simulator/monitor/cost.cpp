#include "simulator/monitor/cost.h"

#include <httplib.h>

#include <algorithm>

#include "common/prometheus_text.h"
#include "simulator/stats/rank_test.h"

namespace rp::sim {

using nlohmann::json;

const std::vector<std::string>& CostSeries() {
  static const std::vector<std::string> kSeries = {
      "rp_ledger_commits_total",    "rp_ledger_claim_commits_total",
      "rp_ledger_statements_total", "rp_redis_round_trips_total",
      "rp_lock_wait_seconds_total", "rp_ledger_pool_wait_seconds_total"};
  return kSeries;
}

const std::vector<CostFigure>& CostFigures() {
  static const std::vector<CostFigure> kFigures = {
      {"cpu_ms_per_claim", "ms",
       "CPU time (user + system) of rp-server, Redis, PostgreSQL and HAProxy per claim won"},
      {"commits_per_claim", "", "ledger commits per claim won"},
      {"statements_per_claim", "", "ledger statements per claim won"},
      {"redis_round_trips_per_claim", "", "Redis round trips per claim won"},
      {"lock_wait_ms_per_claim", "ms", "time claims waited for their packet's lock, per claim won"},
      {"pool_wait_ms_per_claim", "ms", "time write jobs waited for a ledger connection, per claim"},
  };
  return kFigures;
}

CostSnapshot TakeCostSnapshot(const SystemUnderTest* system, const std::string& host,
                              const std::vector<int>& ports) {
  CostSnapshot snap;
  if (system != nullptr) snap.cpu = system->SampleCpu();
  snap.instances = static_cast<int>(ports.size());
  for (const std::string& name : CostSeries()) snap.counters[name] = 0;
  for (int port : ports) {
    httplib::Client client(host, port);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(2, 0);
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) continue;
    auto samples = prom::ParseText(r->body);
    if (!samples.ok()) continue;
    ++snap.instances_read;
    for (const std::string& name : CostSeries()) snap.counters[name] += prom::Sum(*samples, name);
  }
  return snap;
}

namespace {

json PerClaim(double amount, double claims_won, bool trusted) {
  if (!trusted || claims_won <= 0) return nullptr;
  return amount / claims_won;
}

}  // namespace

void AddHealthzReference(const std::vector<double>& samples_us, json* cost) {
  if (samples_us.empty() || cost == nullptr || !cost->is_object()) return;
  const double median_us = MedianOf(samples_us);
  (*cost)["healthz_cpu_us_per_request"] = median_us;
  (*cost)["healthz_cpu_us_samples"] = samples_us;
  const json claim_ms = cost->value("cpu_ms_per_claim", json());
  (*cost)["cpu_per_claim_in_healthz"] = claim_ms.is_number() && median_us > 0
                                            ? json(claim_ms.get<double>() * 1000 / median_us)
                                            : json();
}

json CostJson(const CostSnapshot& start, const CostSnapshot& end, double claims_won,
              double load_seconds) {
  json incomplete = json::array();
  const bool cpu_read = !start.cpu.seconds.empty() && !end.cpu.seconds.empty();
  const bool cpu_same = cpu_read && start.cpu.pids == end.cpu.pids;
  if (!cpu_read) incomplete.push_back("CPU time: not read (a server rp-sim did not start)");
  if (cpu_read && !cpu_same) {
    incomplete.push_back("CPU time: a process of the system restarted during the load");
  }
  const bool counters_ok = start.instances_read == start.instances &&
                           end.instances_read == end.instances && end.instances > 0;
  if (!counters_ok) incomplete.push_back("work counters: an instance's /metrics did not answer");
  if (claims_won <= 0) incomplete.push_back("no claim was won during the load");
  json cpu_s = json::object();
  double system_cpu_s = 0;
  for (const auto& [part, seconds] : end.cpu.seconds) {
    auto before = start.cpu.seconds.find(part);
    const double used = seconds - (before == start.cpu.seconds.end() ? 0 : before->second);
    cpu_s[part] = used;
    if (part != kMockPart) system_cpu_s += used;  // The mock plays outside services.
  }
  json threads = json::object();
  for (const auto& [name, seconds] : end.cpu.server_threads) {
    auto before = start.cpu.server_threads.find(name);
    threads[name] = seconds - (before == start.cpu.server_threads.end() ? 0 : before->second);
  }
  auto delta = [&](const char* name) { return end.counters.at(name) - start.counters.at(name); };
  return {
      {"window", "load"},
      {"load_seconds", load_seconds},
      {"claims_won", claims_won},
      {"cpu_seconds", cpu_s},
      {"server_cpu_seconds_by_thread", threads},
      {"cpu_ms_per_claim", PerClaim(system_cpu_s * 1000, claims_won, cpu_same)},
      {"commits_per_claim", PerClaim(delta("rp_ledger_commits_total"), claims_won, counters_ok)},
      {"claim_commits_per_claim",
       PerClaim(delta("rp_ledger_claim_commits_total"), claims_won, counters_ok)},
      {"statements_per_claim",
       PerClaim(delta("rp_ledger_statements_total"), claims_won, counters_ok)},
      {"redis_round_trips_per_claim",
       PerClaim(delta("rp_redis_round_trips_total"), claims_won, counters_ok)},
      {"lock_wait_ms_per_claim",
       PerClaim(delta("rp_lock_wait_seconds_total") * 1000, claims_won, counters_ok)},
      {"pool_wait_ms_per_claim",
       PerClaim(delta("rp_ledger_pool_wait_seconds_total") * 1000, claims_won, counters_ok)},
      {"incomplete", incomplete}};
}

}  // namespace rp::sim
