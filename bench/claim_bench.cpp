// rp-bench: hot-packet claim throughput per claim scheme, next to the same server's /healthz
// throughput measured in the same run (the ceiling of any request on this machine). Figures are
// to be read as ratios: the machine is shared and noisy. Client and server share the 2 cores;
// the client drives load from one thread.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/crypto.h"
#include "common/http_load.h"
#include "common/process.h"

namespace {

constexpr const char* kAuthSecret = "bench-auth-secret-0123456789";
constexpr const char* kPaymentSecret = "bench-payment-secret-0123456789";
constexpr int64_t kRunMs = 2500;

struct Server {
  std::string dir;
  std::optional<rp::ChildProcess> child;
  std::optional<rp::ChildProcess> redis;  // mem_lock's private redis-server.
  int port = 0;
};

// A private redis-server (no persistence) on a free port; returns the port.
int StartRedis(Server* s) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  const int port = ntohs(addr.sin_port);
  auto child =
      rp::ChildProcess::Spawn({"/usr/bin/redis-server", "--port", std::to_string(port), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s->dir},
                              {}, s->dir + "/redis.log");
  if (!child.ok()) std::abort();
  s->redis.emplace(std::move(child.value()));
  for (;;) {
    auto line = s->redis->ReadLine(10000);
    if (!line.ok()) std::abort();
    if (line->find("Ready to accept connections") != std::string::npos) return port;
  }
}

Server* g_server = nullptr;
double g_healthz_rps = 0;

Server* StartServer(const std::string& scheme) {
  auto* s = new Server;
  char tmpl[] = "/tmp/rp-bench-XXXXXX";
  s->dir = mkdtemp(tmpl);
  std::ofstream config(s->dir + "/config.yaml");
  config << "packet:\n  count_max: 1000000\nclaim:\n  scheme: " << scheme << "\n";
  if (scheme == "mem_lock" || scheme == "presplit") {
    config << "redis:\n  url: tcp://127.0.0.1:" << StartRedis(s) << "\n  pool_size: 16\n";
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
  httplib::Client c("127.0.0.1", port);
  std::string token = rp::auth::MintToken(kAuthSecret, 1, std::time(nullptr) + 3600);
  static int n = 0;
  nlohmann::json body = {{"order_no", "bench-" + std::to_string(++n)},
                         {"kind", "c2c"},
                         {"total_cents", count * 100},
                         {"count", count},
                         {"split", "random"},
                         {"audience", "public"},
                         {"video_id", "bench"}};
  auto sent = c.Post("/v1/packets", {{"Authorization", "Bearer " + token}}, body.dump(),
                     "application/json");
  if (!sent || sent->status != 201) std::abort();
  auto j = nlohmann::json::parse(sent->body);
  std::string pay = nlohmann::json{
      {"pay_order_no", j["pay_order_no"]},
      {"status", "paid"},
      {"amount_cents",
       count * 100}}.dump();
  auto paid = c.Post("/v1/payments/callback",
                     {{"X-RP-Signature", rp::crypto::HmacSha256Hex(kPaymentSecret, pay)}}, pay,
                     "application/json");
  if (!paid || paid->status != 200) std::abort();
  return j["packet_id"];
}

double MetricValue(int port, const std::string& name) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  if (!r) return 0;
  // The sample line: `name value` or `name{labels} value` (labels never hold a space here).
  for (size_t pos = r->body.find("\n" + name); pos != std::string::npos;
       pos = r->body.find("\n" + name, pos + 1)) {
    const char next = r->body[pos + 1 + name.size()];
    if (next != ' ' && next != '{') continue;
    const size_t space = r->body.find(' ', pos + 1);
    if (space != std::string::npos) return std::atof(r->body.c_str() + space + 1);
  }
  return 0;
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
  const std::string req = rp::load::RenderRequest("GET", "/healthz", {}, "");
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
  std::vector<std::string> paths;
  for (int64_t p : packets) paths.push_back("/v1/packets/" + std::to_string(p) + "/claims");
  const int64_t user_base = 1'000'000'000LL * static_cast<int64_t>(packets.front());
  const int64_t expires = std::time(nullptr) + 3600;
  // Commits holding at least one claim (async transfer completions are not counted), and the
  // time claims spent waiting for their packet's lock in the writer.
  const double commits_before = MetricValue(server->port, "rp_ledger_claim_commits_total");
  const double wait_s_before = MetricValue(server->port, "rp_lock_wait_seconds_total");
  for (auto _ : state) {
    auto r = rp::load::RunClosedLoop(
        {"127.0.0.1", server->port, claimers, 10'000'000, kRunMs}, [&](int64_t seq) {
          std::string token = rp::auth::MintToken(kAuthSecret, user_base + seq, expires);
          return rp::load::RenderRequest("POST", paths[static_cast<size_t>(seq) % paths.size()],
                                         {{"Authorization", "Bearer " + token}}, "");
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

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::vector<std::string> schemes = {"db_lock", "batched", "mem_lock", "presplit"};
  for (const std::string& scheme : schemes) g_servers[scheme] = StartServer(scheme);
  g_server = g_servers.at("db_lock");
  // Order matters: the ceiling first, so each claim figure can be divided by it.
  benchmark::RegisterBenchmark("healthz/connections", BM_Healthz)
      ->Arg(64)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  for (const std::string& scheme : schemes) {
    benchmark::RegisterBenchmark(
        ("claims_hot/" + scheme + "/claimers").c_str(),
        [scheme](benchmark::State& state) {
          const int64_t packet = ActivePacket(g_servers.at(scheme)->port, 200'000);
          RunClaims(state, scheme, static_cast<int>(state.range(0)), {packet});
        })
        ->Arg(1)
        ->Arg(8)
        ->Arg(64)
        ->Arg(512)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(
        ("claims_spread_1000_packets/" + scheme + "/claimers").c_str(),
        [scheme](benchmark::State& state) {
          std::vector<int64_t> packets;
          for (int i = 0; i < 1000; ++i) {
            packets.push_back(ActivePacket(g_servers.at(scheme)->port, 1000));
          }
          RunClaims(state, scheme, static_cast<int>(state.range(0)), packets);
        })
        ->Arg(64)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  // Sold out: one packet whose shares are all gone, 512 claimers keep asking. Counts answers
  // (all 409): what a rejection costs under each scheme.
  for (const std::string& scheme : schemes) {
    benchmark::RegisterBenchmark(
        ("rejections_sold_out/" + scheme + "/claimers").c_str(),
        [scheme](benchmark::State& state) {
          Server* server = g_servers.at(scheme);
          const int64_t packet = ActivePacket(server->port, 1);
          httplib::Client c("127.0.0.1", server->port);
          c.Post("/v1/packets/" + std::to_string(packet) + "/claims",
                 {{"Authorization",
                   "Bearer " + rp::auth::MintToken(kAuthSecret, 42, std::time(nullptr) + 3600)}},
                 "", "application/json");
          const std::string path = "/v1/packets/" + std::to_string(packet) + "/claims";
          const int64_t expires = std::time(nullptr) + 3600;
          for (auto _ : state) {
            auto r = rp::load::RunClosedLoop(
                {"127.0.0.1", server->port, static_cast<int>(state.range(0)), 10'000'000, kRunMs},
                [&](int64_t seq) {
                  std::string token = rp::auth::MintToken(kAuthSecret, 5'000'000 + seq, expires);
                  return rp::load::RenderRequest("POST", path,
                                                 {{"Authorization", "Bearer " + token}}, "");
                });
            if (!r.ok()) return state.SkipWithError(r.status().message().c_str());
            Report(state, *r, r->by_status[409]);
            state.counters["vs_healthz"] = r->RequestsPerSecond() / g_healthz_rps;
          }
        })
        ->Arg(512)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& [scheme, server] : g_servers) {
    server->child->Signal(SIGTERM);
    (void)server->child->Wait(10000);
    if (server->redis) server->redis->Signal(SIGTERM);
    std::filesystem::remove_all(server->dir);
  }
  return 0;
}
