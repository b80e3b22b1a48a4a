// rp-bench: hot-packet claim throughput per claim scheme, next to the same server's /healthz
// throughput measured in the same run (the ceiling of any request on this machine). Figures are
// to be read as ratios: the machine is shared and noisy. Client and server share the 2 cores;
// the client drives load from one thread.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/api/api_client.h"
#include "common/claim_schemes.h"
#include "common/http_load.h"
#include "common/process.h"
#include "common/prometheus_text.h"
#include "common/redis_process.h"

namespace {

constexpr const char* kAuthSecret = "bench-auth-secret-0123456789";
constexpr const char* kPaymentSecret = "bench-payment-secret-0123456789";
constexpr int64_t kRunMs = 2500;

const rp::api::Credentials kCredentials{kAuthSecret, kPaymentSecret};

struct Server {
  std::string dir;
  std::optional<rp::ChildProcess> child;
  std::unique_ptr<rp::RedisProcess> redis;  // The Redis schemes' private redis-server.
  int port = 0;
};

Server* g_server = nullptr;
double g_healthz_rps = 0;

Server* StartServer(const std::string& scheme) {
  auto* s = new Server;
  char tmpl[] = "/tmp/rp-bench-XXXXXX";
  s->dir = mkdtemp(tmpl);
  std::ofstream config(s->dir + "/config.yaml");
  config << "packet:\n  count_max: 1000000\nclaim:\n  scheme: " << scheme << "\n";
  if (rp::FindClaimScheme(scheme)->needs_redis) {
    s->redis = std::make_unique<rp::RedisProcess>(s->dir + "/redis");
    if (!s->redis->Start().ok()) std::abort();
    config << "redis:\n  url: " << s->redis->url() << "\n  pool_size: 16\n";
  }
  config.close();
  // --no-workers: the transfers of one scheme's claims would otherwise run (and retry, with no
  // wallet here) in the background of the next scheme's runs and make figures depend on the
  // order; the benchmark measures the claim path, rp-sim measures the asynchronous one.
  auto child =
      rp::ChildProcess::Spawn({RP_SERVER_BIN, "serve", "--config", s->dir + "/config.yaml",
                               "--port", "0", "--db", s->dir + "/ledger.db", "--no-workers"},
                              {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                               std::string("RP_PAYMENT_SECRET=") + kPaymentSecret},
                              s->dir + "/server.log");
  if (!child.ok()) std::abort();
  s->child.emplace(std::move(child.value()));
  auto line = s->child->ReadLine(15000);
  if (!line.ok()) std::abort();
  s->port = *rp::ParseListeningPort(*line);
  return s;
}

// Sends and pays a packet of `count` shares; returns its id.
int64_t ActivePacket(int port, int64_t count) {
  rp::api::Client c("127.0.0.1", port, kCredentials);
  static int n = 0;
  rp::api::Reply sent = c.SendPacket(1, "bench-" + std::to_string(++n), count * 100, count);
  if (sent.status != 201) std::abort();
  if (c.Pay(sent.body["pay_order_no"], "paid", count * 100).status != 200) std::abort();
  return sent.body["packet_id"];
}

// The sum of a metric over its label sets in the server's /metrics.
double MetricValue(int port, const std::string& name) {
  rp::api::Client c("127.0.0.1", port, kCredentials);
  rp::api::Reply r = c.Send(rp::api::Metrics());
  if (r.status != 200) return 0;
  rp::Result<std::vector<rp::prom::Sample>> samples = rp::prom::ParseText(r.raw);
  return samples.ok() ? rp::prom::Sum(*samples, name) : 0;
}

void Report(benchmark::State& state, const rp::load::LoadResult& r, int64_t ok) {
  state.SetIterationTime(r.seconds);
  state.counters["req_per_s"] = r.RequestsPerSecond();
  state.counters["ok_per_s"] = static_cast<double>(ok) / r.seconds;
  state.counters["p50_ms"] = r.LatencyMs(0.50);
  state.counters["p99_ms"] = r.LatencyMs(0.99);
  state.counters["errors"] = static_cast<double>(r.responses - ok + r.transport_errors);
}

void BM_Healthz(benchmark::State& state) {
  const std::string req = rp::api::Render(rp::api::Healthz());
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", g_server->port, static_cast<int>(state.range(0)), 10'000'000, kRunMs},
        [&](int64_t) { return req; });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    g_healthz_rps = r->RequestsPerSecond();
    Report(state, *r, r->by_status[200]);
  }
}

std::map<std::string, Server*> g_servers;  // One rp-server per claim scheme.

// Claims by fresh users over `packets` (round robin), each packet with more shares than the
// run can take; reports claims/s, latency, the ratio to /healthz and commits per claim.
void RunClaims(benchmark::State& state, const std::string& scheme, int claimers,
               const std::vector<int64_t>& packets) {
  Server* server = g_servers.at(scheme);
  const int64_t user_base = 1'000'000'000LL * static_cast<int64_t>(packets.front());
  // Commits holding at least one claim (async transfer completions are not counted), and the
  // time claims spent waiting for their packet's lock in the writer.
  const double commits_before = MetricValue(server->port, "rp_ledger_claim_commits_total");
  const double wait_s_before = MetricValue(server->port, "rp_lock_wait_seconds_total");
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", server->port, claimers, 10'000'000, kRunMs}, [&](int64_t seq) {
          const int64_t packet = packets[static_cast<size_t>(seq) % packets.size()];
          return rp::api::Render(rp::api::Claim(kCredentials, packet, user_base + seq));
        });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    const int64_t won = r->by_status[201];
    Report(state, *r, won);
    state.counters["vs_healthz"] = g_healthz_rps > 0 ? (won / r->seconds) / g_healthz_rps : 0;
    const double commits =
        MetricValue(server->port, "rp_ledger_claim_commits_total") - commits_before;
    state.counters["commits_per_claim"] = won > 0 ? commits / static_cast<double>(won) : 0;
    const double wait_s = MetricValue(server->port, "rp_lock_wait_seconds_total") - wait_s_before;
    state.counters["lock_wait_ms_per_claim"] = won > 0 ? wait_s * 1000 / won : 0;
  }
}

// One hot packet with more shares than the run can take.
void BM_ClaimsHot(benchmark::State& state, const std::string& scheme) {
  const int64_t packet = ActivePacket(g_servers.at(scheme)->port, 200'000);
  RunClaims(state, scheme, static_cast<int>(state.range(0)), {packet});
}

// Claims spread over 1000 packets.
void BM_ClaimsSpread(benchmark::State& state, const std::string& scheme) {
  std::vector<int64_t> packets;
  for (int i = 0; i < 1000; ++i) packets.push_back(ActivePacket(g_servers.at(scheme)->port, 1000));
  RunClaims(state, scheme, static_cast<int>(state.range(0)), packets);
}

// Sold out: one packet whose shares are all gone, claimers keep asking. Counts answers (all
// 409): what a rejection costs under each scheme.
void BM_SoldOut(benchmark::State& state, const std::string& scheme) {
  Server* server = g_servers.at(scheme);
  const int64_t packet = ActivePacket(server->port, 1);
  rp::api::Client c("127.0.0.1", server->port, kCredentials);
  if (c.Claim(packet, 42).status != 201) std::abort();  // Its one share is gone.
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", server->port, static_cast<int>(state.range(0)), 10'000'000, kRunMs},
        [&](int64_t seq) {
          return rp::api::Render(rp::api::Claim(kCredentials, packet, 5'000'000 + seq));
        });
    if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
    Report(state, *r, r->by_status[409]);
    state.counters["vs_healthz"] = r->RequestsPerSecond() / g_healthz_rps;
  }
}

void Register(const std::string& name, void (*fn)(benchmark::State&, const std::string&),
              const std::string& scheme, std::initializer_list<int64_t> claimers) {
  auto* b = benchmark::RegisterBenchmark(
      name.c_str(), [fn, scheme](benchmark::State& state) { fn(state, scheme); });
  for (int64_t c : claimers) b->Arg(c);
  b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::vector<std::string> schemes = rp::ClaimSchemeNames();
  for (const std::string& scheme : schemes) g_servers[scheme] = StartServer(scheme);
  g_server = g_servers.at("db_lock");
  // Order matters: the ceiling first, so each claim figure can be divided by it.
  benchmark::RegisterBenchmark("healthz/connections", BM_Healthz)
      ->Arg(64)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  for (const std::string& scheme : schemes) {
    Register("claims_hot/" + scheme + "/claimers", BM_ClaimsHot, scheme, {1, 8, 64, 512});
    Register("claims_spread_1000_packets/" + scheme + "/claimers", BM_ClaimsSpread, scheme, {64});
  }
  for (const std::string& scheme : schemes) {
    Register("rejections_sold_out/" + scheme + "/claimers", BM_SoldOut, scheme, {512});
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& [scheme, server] : g_servers) {
    server->child->Signal(SIGTERM);
    (void)server->child->Wait(10000);
    if (server->redis) server->redis->Kill();
    std::filesystem::remove_all(server->dir);
  }
  return 0;
}
