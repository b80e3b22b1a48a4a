#include "bench_fleet.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/prometheus_text.h"

namespace rp::bench {
namespace {

// "--name=value" or "--name value": the value, consuming the arguments; nullopt otherwise.
std::optional<std::string> TakeFlag(int* argc, char** argv, int* i, const std::string& name) {
  const std::string arg = argv[*i];
  std::optional<std::string> value;
  int used = 0;
  if (arg.rfind(name + "=", 0) == 0) {
    value = arg.substr(name.size() + 1);
    used = 1;
  } else if (arg == name && *i + 1 < *argc) {
    value = argv[*i + 1];
    used = 2;
  }
  if (!value) return std::nullopt;
  for (int k = *i; k + used <= *argc; ++k) argv[k] = argv[k + used];  // Includes argv[argc].
  *argc -= used;
  --*i;
  return value;
}

std::string ReadFileTail(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

bool ParseInt(const std::string& flag, const std::string& text, int lo, int hi, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "rp-bench: %s must be an integer in %d..%d, not '%s'\n", flag.c_str(), lo,
                 hi, text.c_str());
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

std::optional<FleetOptions> ParseFleetFlags(int* argc, char** argv) {
  FleetOptions o;
  const struct {
    const char* flag;
    int lo, hi;
    int* out;
  } ints[] = {{"--pg-pool-size", 1, 512, &o.pg_pool_size},
              {"--pg-commit-delay-us", 0, 100000, &o.postgres.commit_delay_us},
              {"--pg-commit-siblings", 0, 1000, &o.postgres.commit_siblings}};
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {  // Ours first; Google Benchmark's follow.
      std::printf(
          "rp-bench: claims/s per ledger engine and claim scheme beside the /healthz ceiling\n"
          "  --ledger=sqlite|postgres|all    engines to measure (default: all)\n"
          "  --pg-pool-size=N                ledger.pool_size of the PostgreSQL servers (8)\n"
          "  --pg-commit-delay-us=N          PostgreSQL commit_delay (0)\n"
          "  --pg-commit-siblings=N          PostgreSQL commit_siblings (5)\n"
          "  --server-env=K=V                add K=V to every rp-server's environment, e.g.\n"
          "                                  LD_PRELOAD=libjemalloc.so.2 (repeatable)\n\n");
    }
    if (auto ledger = TakeFlag(argc, argv, &i, "--ledger")) {
      if (*ledger != "all" && FindLedgerEngine(*ledger) == nullptr) {
        std::fprintf(stderr, "rp-bench: --ledger must be sqlite, postgres or all, not '%s'\n",
                     ledger->c_str());
        return std::nullopt;
      }
      o.ledgers = *ledger == "all" ? LedgerEngineNames() : std::vector<std::string>{*ledger};
      continue;
    }
    if (auto env = TakeFlag(argc, argv, &i, "--server-env")) {
      if (env->find('=') == std::string::npos || env->front() == '=') {
        std::fprintf(stderr, "rp-bench: --server-env takes K=V, not '%s'\n", env->c_str());
        return std::nullopt;
      }
      o.server_env.push_back(*env);
      continue;
    }
    for (const auto& f : ints) {
      auto value = TakeFlag(argc, argv, &i, f.flag);
      if (value && !ParseInt(f.flag, *value, f.lo, f.hi, f.out)) return std::nullopt;
      if (value) break;
    }
  }
  return o;
}

Fleet::Fleet(FleetOptions options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/rp-bench-XXXXXX";
  dir_ = mkdtemp(tmpl);
}

Fleet* g_running = nullptr;  // The started fleet, for Die().

Fleet::~Fleet() {
  StopAll();
  if (g_running == this) g_running = nullptr;
}

void Fleet::StopAll() {
  // Whatever part of each server started: Die() may come in the middle of starting one.
  for (auto& [name, server] : servers_) {
    if (server->child) {
      server->child->Signal(SIGTERM);
      (void)server->child->Wait(10000);  // Stopping: the destructor kills one that did not exit.
    }
    if (server->redis) server->redis->Kill();
  }
  servers_.clear();
  if (postgres_) (void)postgres_->Stop();  // Tearing down: a failed stop changes no figure.
  postgres_.reset();
  std::filesystem::remove_all(dir_);
}

void Die(const std::string& why) {
  std::fprintf(stderr, "rp-bench: %s\n", why.c_str());
  std::fflush(stderr);
  if (g_running != nullptr) g_running->StopAll();
  std::exit(1);
}

void Fleet::Start(const std::vector<std::string>& schemes) {
  g_running = this;
  for (const std::string& ledger : options_.ledgers) {
    if (ledger == kPostgresEngine && !postgres_) {
      postgres_ = std::make_unique<PostgresProcess>(dir_ + "/pg", options_.postgres);
      if (Status s = postgres_->Start(); !s.ok()) Die("PostgreSQL: " + s.ToString());
    }
    for (const std::string& scheme : schemes) StartServer(ledger, scheme);
  }
}

// A limiter with every kind of rule on the claim path — per route, per packet, per user, a
// concurrency bound — none of which a benchmark comes near: what the limiter costs by itself.
constexpr const char* kLimitsNeverHit =
    "limits:\n  rules:\n"
    "    - {name: claims, route: claim, qps: 10000000, burst: 10000000}\n"
    "    - {name: claims_per_packet, route: claim, per: packet, qps: 10000000, burst: 10000000}\n"
    "    - {name: claims_per_user, route: claim, per: user, qps: 1000000, burst: 1000000}\n"
    "    - {name: in_flight, route: \"*\", concurrency: 1000000}\n";

std::vector<std::string> Fleet::ServerEnv() const {
  std::vector<std::string> env = {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                                  std::string("RP_PAYMENT_SECRET=") + kPaymentSecret};
  env.insert(env.end(), options_.server_env.begin(), options_.server_env.end());
  return env;
}

void Fleet::StartServer(const std::string& ledger, const std::string& scheme) {
  // Listed before anything starts, so that a Die() on the way stops what did start (its
  // redis-server, its rp-server) with the rest of the fleet.
  auto& s = servers_[ledger + "/" + scheme];
  s = std::make_unique<Server>();
  s->dir = dir_ + "/" + ledger + "-" + scheme;
  std::filesystem::create_directories(s->dir);
  std::ofstream config(s->dir + "/config.yaml");
  const std::string base = BaseScheme(scheme);
  config << "packet:\n  count_max: 1000000\nclaim:\n  scheme: " << base << "\n";
  if (base != scheme) config << kLimitsNeverHit;
  if (FindClaimScheme(base)->needs_redis) {
    s->redis = std::make_unique<RedisProcess>(s->dir + "/redis");
    if (Status started = s->redis->Start(); !started.ok()) Die("redis: " + started.ToString());
    config << "redis:\n  url: " << s->redis->url() << "\n  pool_size: 16\n";
  }
  if (ledger == kPostgresEngine) {
    std::string db = "bench_" + scheme;  // "db_lock+limits": an identifier has no '+'.
    std::replace_if(
        db.begin(), db.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
        '_');
    Result<std::string> url = postgres_->CreateDatabase(db);
    if (!url.ok()) Die(url.status().ToString());
    config << "ledger:\n  engine: postgres\n  url: " << *url
           << "\n  pool_size: " << options_.pg_pool_size << "\n";
  } else {
    config << "ledger:\n  path: " << s->dir << "/ledger.db\n";
  }
  config.close();
  // --no-workers: the transfers of one scheme's claims would otherwise run (and retry, with no
  // wallet here) in the background of the next scheme's runs and make figures depend on the
  // order; the benchmark measures the claim path, rp-sim measures the asynchronous one.
  auto child = ChildProcess::Spawn(
      {RP_SERVER_BIN, "serve", "--config", s->dir + "/config.yaml", "--port", "0", "--no-workers"},
      ServerEnv(), s->dir + "/server.log");
  if (!child.ok()) Die("cannot start rp-server: " + child.status().ToString());
  s->child.emplace(std::move(child.value()));
  auto line = s->child->ReadLine(30000);
  if (!line.ok()) {
    const std::string log = s->dir + "/server.log";
    s->child->Signal(SIGKILL);
    Die(ledger + "/" + scheme + " did not start: " + ReadFileTail(log));
  }
  s->port = *ParseListeningPort(*line);
}

int64_t ActivePacket(int port, int64_t count) {
  api::Client c("127.0.0.1", port, kCredentials);
  static int n = 0;
  api::Reply sent = c.SendPacket(1, "bench-" + std::to_string(++n), count * 100, count);
  if (sent.status != 201) Die("send of " + std::to_string(count) + " shares: " + sent.raw);
  api::Reply paid = c.Pay(sent.body["pay_order_no"], "paid", count * 100);
  if (paid.status != 200) Die("payment of " + std::to_string(count) + " shares: " + paid.raw);
  return sent.body["packet_id"];
}

double MetricValue(int port, const std::string& name) {
  api::Client c("127.0.0.1", port, kCredentials);
  api::Reply r = c.Send(api::Metrics());
  if (r.status != 200) return 0;
  Result<std::vector<prom::Sample>> samples = prom::ParseText(r.raw);
  return samples.ok() ? prom::Sum(*samples, name) : 0;
}

}  // namespace rp::bench
