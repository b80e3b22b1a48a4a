#include "mocks/mock_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/downstream.h"

#include <chrono>

namespace rp::mock {
namespace {

using nlohmann::json;

// follows(a, b): a deterministic pseudo-random relation from the seed (splitmix64).
bool Follows(uint64_t seed, int64_t a, int64_t b, int percent) {
  uint64_t x = seed ^ (static_cast<uint64_t>(a) * 0x9E3779B97F4A7C15ULL) ^
               (static_cast<uint64_t>(b) * 0xC2B2AE3D27D4EB4FULL);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return static_cast<int>(x % 100) < percent;
}

}  // namespace

Result<std::unique_ptr<MockServer>> MockServer::Start(const MockConfig& config) {
  std::unique_ptr<MockServer> m(new MockServer());
  m->config_ = config;
  m->switches_ = std::make_unique<SwitchBoard>(config.seed);
  for (const Switch& s : config.switches) m->switches_->Set(s);
  auto payment =
      PaymentService::Open(config.data_dir, config.payment_secret, m->switches_.get(), {});
  if (!payment.ok()) return payment.status();
  m->payment_ = std::move(payment.value());
  auto reward = RewardService::Open(config.data_dir, config.reward_secret, m->switches_.get(),
                                    config.subsidy_ttl_s);
  if (!reward.ok()) return reward.status();
  m->reward_ = std::move(reward.value());
  for (const RoundSpec& r : config.rounds) {
    Status s = m->reward_->CreateRound(r);
    if (!s.ok()) return s;
  }
  auto wallet = WalletService::Open(config.data_dir, m->payment_.get(), m->reward_.get());
  if (!wallet.ok()) return wallet.status();
  m->wallet_ = std::move(wallet.value());

  httplib::Server& http = m->http_;
  http.set_socket_options([](socket_t sock) {
    int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  });
  const int threads = config.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_keep_alive_max_count(100000);
  http.set_keep_alive_timeout(30);
  http.set_read_timeout(30, 0);
  http.set_payload_max_length(1 << 20);
  m->payment_->Register(http, m->GuardFor("payment"));
  m->wallet_->Register(http, m->GuardFor("wallet"));
  m->reward_->Register(http, m->GuardFor("reward"));
  m->RegisterSocial();
  m->RegisterAdmin();
  m->port_ = config.port == 0 ? http.bind_to_any_port("127.0.0.1")
                              : (http.bind_to_port("127.0.0.1", config.port) ? config.port : -1);
  if (m->port_ <= 0) return Status(Error::kBindFailed, "cannot listen on the requested port");
  MockServer* raw = m.get();
  m->thread_ = std::thread([raw] { raw->http_.listen_after_bind(); });
  // httplib's stop() does nothing before the listen loop runs, so Stop() right after Start
  // would join forever: wait (bounded) until it runs.
  for (int i = 0; i < 5000 && !raw->http_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return m;
}

Guard MockServer::GuardFor(const std::string& service) {
  SwitchBoard* board = switches_.get();
  return [board, service](const std::string& endpoint, httplib::Server::Handler handler) {
    return
        [board, service, endpoint, handler](const httplib::Request& req, httplib::Response& res) {
          Fault f = board->Decide(service, endpoint);
          if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
          if (f.down) return ReplyError(res, 503, "service_down", service + " is switched down");
          if (f.error) return ReplyError(res, 500, "injected_error", "switch: error_rate");
          handler(req, res);  // Applied...
          if (f.timeout)
            std::this_thread::sleep_for(std::chrono::milliseconds(f.hang_ms));  // ...then hang.
        };
  };
}

MockServer::~MockServer() {
  Stop();
}

void MockServer::Stop() {
  http_.stop();
  if (thread_.joinable()) thread_.join();
  if (payment_) payment_->Stop();
}

void MockServer::RegisterSocial() {
  const uint64_t seed = config_.seed;
  const int percent = config_.follow_percent;
  Guard guard = GuardFor("social");
  http_.Get(downstream::kSocialRelation,
            guard("relation", [seed, percent](const httplib::Request& req, httplib::Response& res) {
              int64_t from = 0, to = 0;
              try {
                from = std::stoll(req.get_param_value("from"));
                to = std::stoll(req.get_param_value("to"));
              } catch (const std::exception&) {
              }
              if (from <= 0 || to <= 0) {
                return ReplyError(res, 400, "invalid_users", "from and to must be positive ids");
              }
              const bool follows = from == to || Follows(seed, from, to, percent);
              const bool back = from == to || Follows(seed, to, from, percent);
              Reply(res, 200,
                    downstream::ToJson(downstream::Relation{from, to, follows, follows && back}));
            }));
}

void MockServer::RegisterAdmin() {
  http_.Post("/admin/switches", [this](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!ParseBody(req, res, &body)) return;
    Result<Switch> s = ParseSwitch(body);
    if (!s.ok()) return ReplyStatus(res, s.status());
    switches_->Set(*s);
    Reply(res, 200, SwitchJson(*s));
  });
  http_.Get("/admin/switches", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"switches", switches_->List()}});
  });
  http_.Delete("/admin/switches", [this](const httplib::Request&, httplib::Response& res) {
    switches_->Reset();
    Reply(res, 200, {{"switches", json::array()}});
  });
  http_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"status", "ok"}});
  });
  SwitchBoard* board = switches_.get();
  metrics_.AddCollector([board](metrics::Writer& w) {
    for (const auto& [where, n] : board->Counts()) {
      const metrics::Labels at{{"service", where.first}, {"endpoint", where.second}};
      w.Counter("rp_mock_calls_total", "Calls to each mock service endpoint", n.calls, at);
      const std::pair<const char*, int64_t> faults[] = {{"latency", n.latency},
                                                        {"down", n.down},
                                                        {"error", n.error},
                                                        {"timeout", n.timeout},
                                                        {"duplicate", n.duplicate}};
      for (const auto& [kind, count] : faults) {
        metrics::Labels labels = at;
        labels["fault"] = kind;
        w.Counter("rp_mock_faults_injected_total",
                  "Faults the switches injected, by kind (latency, down, error, timeout, "
                  "duplicate callback)",
                  static_cast<double>(count), labels);
      }
    }
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
}

}  // namespace rp::mock
