// rp-bench: claim throughput per ledger engine and claim scheme, next to the same server's
// /healthz throughput measured in the same run (the ceiling of any request on this machine).
// Figures are to be read as ratios: the machine is shared and noisy. Client and server share
// the 2 cores; the client drives load from one thread. See docs/perf.md.
//
//   rp-bench [--ledger=sqlite|postgres|all] [--pg-pool-size=N] [--pg-commit-delay-us=N]
//            [--pg-commit-siblings=N] [Google Benchmark flags, e.g. --benchmark_filter=hot]
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "bench_fleet.h"
#include "common/claim_schemes.h"
#include "common/http_load.h"
#include "server/base/circuit_breaker.h"
#include "wrk_run.h"

namespace {

// The schemes the benchmark names rows after, from the one scheme list.
const std::string kDbLock(rp::SchemeName(rp::ClaimSchemeId::kDbLock));
const std::string kBatched(rp::SchemeName(rp::ClaimSchemeId::kBatched));
const std::string kMemLock(rp::SchemeName(rp::ClaimSchemeId::kMemLock));
const std::string kPresplit(rp::SchemeName(rp::ClaimSchemeId::kPresplit));

using rp::bench::ActivePacket;
using rp::bench::kCredentials;
using rp::bench::MetricValue;

constexpr int64_t kRunMs = 2500;

rp::bench::Fleet* g_fleet = nullptr;
std::map<std::string, double> g_healthz_rps;  // By ledger: the ceiling of that ledger's run.
std::map<std::string, double> g_figure;       // "benchmark/ledger/scheme" -> its headline rate.

// A run's counters, whichever client drove it: `ok` of `responses` answered as hoped.
void ReportRun(benchmark::State& state, double seconds, int64_t responses, int64_t ok,
               int64_t transport_errors, double p50_ms, double p99_ms) {
  state.SetIterationTime(seconds);
  state.counters["req_per_s"] = static_cast<double>(responses) / seconds;
  state.counters["ok_per_s"] = static_cast<double>(ok) / seconds;
  state.counters["p50_ms"] = p50_ms;
  state.counters["p99_ms"] = p99_ms;
  state.counters["errors"] = static_cast<double>(responses - ok + transport_errors);
}

void Report(benchmark::State& state, const rp::load::LoadResult& r, int64_t ok) {
  ReportRun(state, r.seconds, r.responses, ok, r.transport_errors, r.LatencyMs(0.50),
            r.LatencyMs(0.99));
}

void BM_Healthz(benchmark::State& state, const std::string& ledger) {
  const std::string req = rp::api::Render(rp::api::Healthz());
  const int port = g_fleet->at(ledger, kDbLock).port;
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", port, static_cast<int>(state.range(0)), 10'000'000, kRunMs},
        [&](int64_t) { return req; });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    g_healthz_rps[ledger] = r->RequestsPerSecond();
    Report(state, *r, r->by_status[200]);
  }
}

// The ledger's own accounting of a run: commits holding a claim, time in row-locking
// statements (SQLite: waiting for the packet's turn in the writer), time waiting for a ledger
// connection (PostgreSQL).
// And for the Redis schemes, claims that took the ledger path because Redis could not answer.
struct LedgerFigures {
  double commits = 0, lock_wait_s = 0, pool_wait_s = 0, fallbacks = 0;
  static LedgerFigures Read(int port) {
    return {MetricValue(port, "rp_ledger_claim_commits_total"),
            MetricValue(port, "rp_lock_wait_seconds_total"),
            MetricValue(port, "rp_ledger_pool_wait_seconds_total"),
            MetricValue(port, "rp_scheme_fallbacks_total")};
  }
};

// Per claim won ("claim"), or per claim answered, won or sold out ("answer").
void ReportPer(benchmark::State& state, const LedgerFigures& before, int port, int64_t count,
               const std::string& per) {
  const LedgerFigures after = LedgerFigures::Read(port);
  const double n = count > 0 ? static_cast<double>(count) : 1;
  state.counters["commits_per_" + per] = (after.commits - before.commits) / n;
  state.counters["lock_wait_ms_per_" + per] = (after.lock_wait_s - before.lock_wait_s) * 1000 / n;
  state.counters["pool_wait_ms_per_" + per] = (after.pool_wait_s - before.pool_wait_s) * 1000 / n;
  state.counters["fallbacks"] = after.fallbacks - before.fallbacks;
}

// Claims by fresh users over `packets` (round robin), each packet with more shares than the
// run can take; reports claims/s, latency, the ratio to /healthz and the ledger's figures.
void RunClaims(benchmark::State& state, const std::string& figure, const std::string& ledger,
               const std::string& scheme, const std::vector<int64_t>& packets) {
  const int port = g_fleet->at(ledger, scheme).port;
  const int claimers = static_cast<int>(state.range(0));
  const int64_t user_base = 1'000'000'000LL * static_cast<int64_t>(packets.front());
  const LedgerFigures before = LedgerFigures::Read(port);
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", port, claimers, 10'000'000, kRunMs}, [&](int64_t seq) {
          const int64_t packet = packets[static_cast<size_t>(seq) % packets.size()];
          return rp::api::Render(rp::api::Claim(kCredentials, packet, user_base + seq));
        });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    const int64_t won = r->by_status[201];
    Report(state, *r, won);
    const double rate = static_cast<double>(won) / r->seconds;
    state.counters["vs_healthz"] = rate / g_healthz_rps[ledger];
    g_figure[figure + "/" + std::to_string(claimers) + "/" + ledger + "/" + scheme] = rate;
    ReportPer(state, before, port, won, "claim");
  }
}

// One hot packet with more shares than the run can take.
void BM_ClaimsHot(benchmark::State& state, const std::string& ledger, const std::string& scheme) {
  const int64_t packet = ActivePacket(g_fleet->at(ledger, scheme).port, 200'000);
  RunClaims(state, "hot", ledger, scheme, {packet});
}

// Claims spread over 1000 packets.
void BM_ClaimsSpread(benchmark::State& state, const std::string& ledger,
                     const std::string& scheme) {
  std::vector<int64_t> packets;
  const int port = g_fleet->at(ledger, scheme).port;
  for (int i = 0; i < 1000; ++i) packets.push_back(ActivePacket(port, 1000));
  RunClaims(state, "spread", ledger, scheme, packets);
}

// The seed's shape: one packet of 1000 shares, 20,000 distinct claimers, range(0) of them in
// flight at a time. Every claimer is answered once: 1000 win, 19,000 hear sold out. Reports
// answers/s and the time until the last one was answered; anything else fails the benchmark.
void BM_SeedShape(benchmark::State& state, const std::string& ledger, const std::string& scheme) {
  constexpr int64_t kShares = 1000, kClaimers = 20000;
  const int port = g_fleet->at(ledger, scheme).port;
  const int64_t packet = ActivePacket(port, kShares);
  const LedgerFigures before = LedgerFigures::Read(port);
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", port, static_cast<int>(state.range(0)), kClaimers, 120'000},
        [&](int64_t seq) {
          return rp::api::Render(rp::api::Claim(kCredentials, packet, 7'000'000 + seq));
        });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    const int64_t won = r->by_status[201], sold_out = r->by_status[409];
    if (won != kShares || sold_out != kClaimers - kShares || r->transport_errors != 0) {
      const std::string why = "expected 1000 wins and 19000 sold out, got " + std::to_string(won) +
                              " and " + std::to_string(sold_out) + " (" +
                              std::to_string(r->transport_errors) + " transport errors)";
      return state.SkipWithError(why.c_str());
    }
    Report(state, *r, won + sold_out);
    state.counters["all_answered_ms"] = r->seconds * 1000;
    state.counters["vs_healthz"] = r->RequestsPerSecond() / g_healthz_rps[ledger];
    g_figure["seed/" + ledger + "/" + scheme] = r->RequestsPerSecond();
    ReportPer(state, before, port, won + sold_out, "answer");
  }
}

// Sold out: one packet whose shares are all gone, claimers keep asking. Counts answers (all
// 409): what a rejection costs under each scheme.
void BM_SoldOut(benchmark::State& state, const std::string& ledger, const std::string& scheme) {
  const int port = g_fleet->at(ledger, scheme).port;
  const int64_t packet = ActivePacket(port, 1);
  rp::api::Client c("127.0.0.1", port, kCredentials);
  if (c.Claim(packet, 42).status != 201) rp::bench::Die("the sold-out packet's one claim failed");
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", port, static_cast<int>(state.range(0)), 10'000'000, kRunMs},
        [&](int64_t seq) {
          return rp::api::Render(rp::api::Claim(kCredentials, packet, 5'000'000 + seq));
        });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    Report(state, *r, r->by_status[409]);
    state.counters["vs_healthz"] = r->RequestsPerSecond() / g_healthz_rps[ledger];
  }
}

// The same rows driven by wrk with tokens minted in advance (bench/wrk_run.h): a client nobody
// here wrote, doing no HMAC, so the figure is the server's.
constexpr int kWrkSeconds = 5;
constexpr int64_t kWrkClaims = 300'000;  // More than a run can make; a run that uses them fails.
std::map<std::string, double> g_wrk_healthz_rps;

void ReportWrk(benchmark::State& state, const rp::bench::WrkResult& r, int64_t ok) {
  ReportRun(state, r.seconds, r.requests, ok, r.socket_errors, r.p50_ms, r.p99_ms);
}

void BM_WrkHealthz(benchmark::State& state, const std::string& ledger) {
  if (!rp::bench::WrkInstalled()) return state.SkipWithError("wrk is not installed");
  const int port = g_fleet->at(ledger, kDbLock).port;
  for (auto _ : state) {
    auto r = rp::bench::RunWrkGet(port, "/healthz", static_cast<int>(state.range(0)), kWrkSeconds);
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    g_wrk_healthz_rps[ledger] = r->RequestsPerSecond();
    ReportWrk(state, *r, r->requests - r->non_2xx);
  }
}

// kWrkClaims claims by distinct users over `packets` (round robin).
void RunWrkClaims(benchmark::State& state, const std::string& figure, const std::string& ledger,
                  const std::string& scheme, const std::vector<int64_t>& packets) {
  if (!rp::bench::WrkInstalled()) return state.SkipWithError("wrk is not installed");
  const int port = g_fleet->at(ledger, scheme).port;
  std::vector<rp::bench::WrkClaim> claims;
  const int64_t user_base = 2'000'000'000LL * static_cast<int64_t>(packets.front());
  for (int64_t i = 0; i < kWrkClaims; ++i) {
    claims.push_back({packets[static_cast<size_t>(i) % packets.size()], user_base + i});
  }
  char tmpl[] = "/tmp/rp-bench-wrk-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const LedgerFigures before = LedgerFigures::Read(port);
  const int connections = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto r = rp::bench::RunWrkClaims(port, claims, kCredentials.auth_secret, dir, connections,
                                     kWrkSeconds);
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    const int64_t won = r->requests - r->non_2xx;  // Every claim is a new user's: 201 or an error.
    ReportWrk(state, *r, won);
    const double rate = static_cast<double>(won) / r->seconds;
    state.counters["vs_healthz"] = rate / g_wrk_healthz_rps[ledger];
    g_figure["wrk_" + figure + "/" + ledger + "/" + scheme] = rate;
    ReportPer(state, before, port, won, "claim");
  }
  std::filesystem::remove_all(dir);
}

void BM_WrkClaimsSpread(benchmark::State& state, const std::string& ledger,
                        const std::string& scheme) {
  std::vector<int64_t> packets;
  const int port = g_fleet->at(ledger, scheme).port;
  for (int i = 0; i < 1000; ++i) packets.push_back(ActivePacket(port, 1000));
  RunWrkClaims(state, "spread", ledger, scheme, packets);
}

void BM_WrkClaimsHot(benchmark::State& state, const std::string& ledger,
                     const std::string& scheme) {
  const int64_t packet = ActivePacket(g_fleet->at(ledger, scheme).port, kWrkClaims);
  RunWrkClaims(state, "hot", ledger, scheme, {packet});
}

using SchemeBenchmark = void (*)(benchmark::State&, const std::string&, const std::string&);

void Register(const std::string& name, SchemeBenchmark fn, const std::string& ledger,
              const std::string& scheme, std::initializer_list<int64_t> args) {
  auto* b = benchmark::RegisterBenchmark(
      (name + "/" + ledger + "/" + scheme).c_str(),
      [fn, ledger, scheme](benchmark::State& state) { fn(state, ledger, scheme); });
  for (int64_t a : args) b->Arg(a);
  b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

void BM_LimiterCost(benchmark::State& state, const std::string& ledger, const std::string& scheme);

// A client's /healthz ceiling for one ledger, over 64 connections.
void RegisterCeiling(const std::string& name, void (*fn)(benchmark::State&, const std::string&),
                     const std::string& ledger) {
  benchmark::RegisterBenchmark((name + "/" + ledger).c_str(),
                               [fn, ledger](benchmark::State& s) { fn(s, ledger); })
      ->Arg(64)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

void RegisterLedger(const std::string& ledger, const std::vector<std::string>& schemes) {
  // Order matters: the ceiling first, so each claim figure can be divided by it.
  RegisterCeiling("healthz", BM_Healthz, ledger);
  for (const std::string& scheme : schemes) {
    Register("claims_hot", BM_ClaimsHot, ledger, scheme, {1, 8, 64, 512});
    Register("claims_spread_1000_packets", BM_ClaimsSpread, ledger, scheme, {64});
    Register("seed_1000_shares_20000_claimers", BM_SeedShape, ledger, scheme, {1000});
    Register("rejections_sold_out", BM_SoldOut, ledger, scheme, {512});
  }
  // wrk's witness of the same rows (its own ceiling first).
  RegisterCeiling("wrk_healthz", BM_WrkHealthz, ledger);
  for (const std::string& scheme : schemes) {
    Register("wrk_claims_spread_1000_packets", BM_WrkClaimsSpread, ledger, scheme, {64});
    Register("wrk_claims_hot", BM_WrkClaimsHot, ledger, scheme, {512});
  }
  // The limiter's cost: spread claims with rules loaded that are never hit vs none.
  for (const std::string& scheme : {kDbLock, kBatched}) {
    benchmark::RegisterBenchmark(
        ("limiter_cost_7_pairs/" + ledger + "/" + scheme).c_str(),
        [ledger, scheme](benchmark::State& s) { BM_LimiterCost(s, ledger, scheme); })
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
}

// The rate limiter's cost, as a ratio robust to this machine's noise: spread claims against the
// scheme's server with rules loaded that are never hit and against the one without, alternated
// kPairs times (1 s each); the median of the pairs' ratios. A single pair swings by +-15% here.
void BM_LimiterCost(benchmark::State& state, const std::string& ledger, const std::string& scheme) {
  constexpr int kPairs = 7;
  constexpr int64_t kPairRunMs = 1000;
  const int plain = g_fleet->at(ledger, scheme).port;
  const int limited = g_fleet->at(ledger, scheme + rp::bench::kWithLimits).port;
  std::map<int, std::vector<int64_t>> packets;
  for (int port : {plain, limited}) {
    for (int i = 0; i < 1000; ++i) packets[port].push_back(ActivePacket(port, 1000));
  }
  int64_t user = 7'000'000'000LL;
  auto rate = [&](int port) -> double {
    auto r =
        rp::load::RunClosedLoop({"127.0.0.1", port, 64, 10'000'000, kPairRunMs}, [&](int64_t seq) {
          const auto& ps = packets[port];
          return rp::api::Render(
              rp::api::Claim(kCredentials, ps[static_cast<size_t>(seq) % ps.size()], user + seq));
        });
    user += 10'000'000;
    return r.ok() ? static_cast<double>(r->by_status[201]) / r->seconds : 0;
  };
  for (auto _ : state) {
    std::vector<double> ratios;
    for (int i = 0; i < kPairs; ++i) {
      const double a = rate(plain), b = rate(limited);
      if (a <= 0 || b <= 0) return state.SkipWithError("a run made no claims");
      ratios.push_back(b / a);
    }
    std::sort(ratios.begin(), ratios.end());
    state.counters["ratio_median"] = ratios[kPairs / 2];
    state.counters["ratio_min"] = ratios.front();
    state.counters["ratio_max"] = ratios.back();
    g_figure["limiter_cost/" + ledger + "/" + scheme] = ratios[kPairs / 2];
  }
}

// A circuit breaker's Allow() and Record() around one downstream call, alone: its cost next to
// the call it guards (a loopback HTTP call is tens of microseconds).
void BM_BreakerAroundACall(benchmark::State& state) {
  rp::SystemClock clock;
  rp::base::CircuitBreaker breaker(rp::base::BreakerOptions{}, &clock);
  for (auto _ : state) {
    if (breaker.Allow()) breaker.Record(true, 1);
  }
  state.SetItemsProcessed(state.iterations());
}

// Claims/s as a fraction of the same client's /healthz rate in this run: rp-bench's generator
// and wrk, spread out and on one hot packet.
void PrintCeilingRatios(const std::string& ledger) {
  const struct {
    const char* label;
    const char* figure;
    const std::map<std::string, double>* ceiling;
  } rows[] = {{"spread, rp-bench", "spread/64", &g_healthz_rps},
              {"spread, wrk", "wrk_spread", &g_wrk_healthz_rps},
              {"hot 512, rp-bench", "hot/512", &g_healthz_rps},
              {"hot 512, wrk", "wrk_hot", &g_wrk_healthz_rps}};
  for (const auto& row : rows) {
    std::printf("  %-8s %-17s vs /healthz:", ledger.c_str(), row.label);
    auto ceiling = row.ceiling->find(ledger);
    for (const std::string& scheme : rp::ClaimSchemeNames()) {
      auto it = g_figure.find(std::string(row.figure) + "/" + ledger + "/" + scheme);
      const bool measured = it != g_figure.end() && ceiling != row.ceiling->end();
      std::printf("  %s %.2f", scheme.c_str(), measured ? it->second / ceiling->second : 0.0);
    }
    std::printf("\n");
  }
}

// The comparisons the seed's choice rests on, from this run's figures.
void PrintRatios(const std::vector<std::string>& ledgers) {
  auto ratio = [](const std::string& a, const std::string& b) {
    auto x = g_figure.find(a), y = g_figure.find(b);
    return x == g_figure.end() || y == g_figure.end() || y->second == 0 ? 0.0
                                                                        : x->second / y->second;
  };
  std::printf("\nratios in this run (0 = not measured):\n");
  for (const std::string& l : ledgers) {
    std::printf("  %-8s limits loaded, not hit, vs none (median of 7 pairs):", l.c_str());
    for (const std::string& scheme : {kDbLock, kBatched}) {
      auto it = g_figure.find("limiter_cost/" + l + "/" + scheme);
      std::printf("  %s %.2f", scheme.c_str(), it == g_figure.end() ? 0.0 : it->second);
    }
    std::printf("\n");
    for (const char* row : {"hot/512", "seed"}) {
      std::printf("  %-8s %-7s vs db_lock:", l.c_str(), row);
      for (const std::string& scheme : {kBatched, kMemLock, kPresplit}) {
        const std::string at = std::string(row) + "/" + l + "/";
        std::printf("  %s %.2f", scheme.c_str(), ratio(at + scheme, at + kDbLock));
      }
      std::printf("\n");
    }
    PrintCeilingRatios(l);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<rp::bench::FleetOptions> options = rp::bench::ParseFleetFlags(&argc, argv);
  if (!options) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const std::vector<std::string> schemes = rp::ClaimSchemeNames();
  std::vector<std::string> servers = schemes;
  for (const std::string& s : {kDbLock, kBatched}) servers.push_back(s + rp::bench::kWithLimits);
  rp::bench::Fleet fleet(*options);
  fleet.Start(servers);
  benchmark::RegisterBenchmark("breaker_allow_record", BM_BreakerAroundACall);
  g_fleet = &fleet;
  for (const std::string& ledger : options->ledgers) RegisterLedger(ledger, schemes);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintRatios(options->ledgers);
  return 0;
}
