#include "tests/support/harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <unistd.h>
#include <chrono>
#include <thread>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "common/crypto.h"
#include "common/options.h"
#include "common/process/pg_process.h"

namespace rp::testing {

std::string TokenFor(int64_t user_id) {
  return auth::MintToken(kAuthSecret, user_id, std::time(nullptr) + 3600);
}

namespace {

// The process's private PostgreSQL, started on first use, stopped (and its files removed) at
// exit; the databases it holds, by ledger path.
struct SharedPostgres {
  TempDir dir;
  std::unique_ptr<PostgresProcess> server;
  std::mutex mu;
  std::map<std::string, std::string> urls;
  int next = 0;

  static SharedPostgres& Get() {
    static SharedPostgres shared;
    std::lock_guard<std::mutex> lock(shared.mu);
    if (!shared.server) {
      shared.server = std::make_unique<PostgresProcess>(shared.dir.File("pg"));
      Status s = shared.server->Start();
      if (!s.ok()) {
        std::fprintf(stderr, "cannot start PostgreSQL for the tests: %s\n", s.ToString().c_str());
        std::abort();  // Nothing can run: the environment asked for PostgreSQL.
      }
    }
    return shared;
  }

  // The database of a ledger path, created (empty, or from the template database) on first use.
  std::string UrlFor(const std::string& path, const std::string& template_name = "") {
    std::lock_guard<std::mutex> lock(mu);
    auto it = urls.find(path);
    if (it != urls.end()) return it->second;
    const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++next);
    Result<std::string> url = server->CreateDatabase(name, template_name);
    if (!url.ok()) {
      std::fprintf(stderr, "%s\n", url.status().ToString().c_str());
      std::abort();  // The tests' own server refused: nothing below can be trusted.
    }
    urls[path] = *url;
    return *url;
  }
};

}  // namespace

bool OnPostgres() {
  const char* e = std::getenv("RP_TEST_LEDGER");
  return e != nullptr && std::string(e) == "postgres";
}

ledger::LedgerOptions LedgerFor(const std::string& path) {
  ledger::LedgerOptions o;
  o.path = path;
  if (OnPostgres()) {
    o.engine = "postgres";
    o.url = SharedPostgres::Get().UrlFor(path);
    o.pool_size = 8;
  }
  return o;
}

PostgresProcess* TestPostgres() {
  return OnPostgres() ? SharedPostgres::Get().server.get() : nullptr;
}

std::vector<std::string> LedgerArgs(const std::string& path) {
  if (!OnPostgres()) return {"--db", path};
  return {"--ledger", "postgres", "--ledger-url", LedgerFor(path).url};
}

Status CopyLedger(const std::string& from, const std::string& to) {
  if (OnPostgres()) {
    // postgresql://user@host:port/NAME?passfile=...: the database's name is the template's.
    const std::string url = LedgerFor(from).url;
    const std::string path = url.substr(0, url.find('?'));
    // Only the copy's side effect is wanted: the database is created from the template.
    (void)SharedPostgres::Get().UrlFor(to, path.substr(path.rfind('/') + 1));
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::copy_file(from, to, ec);
  if (!ec && std::filesystem::exists(from + "-wal")) {
    std::filesystem::copy_file(from + "-wal", to + "-wal", ec);
  }
  if (ec) return Status(Error::kInternal, "copy " + from + ": " + ec.message());
  return Status::Ok();
}

std::unique_ptr<ledger::Engine> OpenLedgerReadOnly(const std::string& path) {
  auto engine = ledger::OpenReadOnly(LedgerFor(path));
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine.value()) : nullptr;
}

ServerConfig TestConfig(const TempDir& dir) {
  ServerConfig c;
  c.server.port = 0;
  c.ledger = LedgerFor(dir.File("ledger.db"));
  c.server.auth_secret = kAuthSecret;
  c.server.payment_secret = kPaymentSecret;
  c.reward_secret = kRewardSecret;
  c.server.threads = 2;
  c.rng_seed = 42;
  c.scanner.interval_ms = 3600 * 1000;  // Tests drive expiry explicitly.
  c.server.shutdown_grace_ms = 2000;
  return c;
}

InProcessServer::InProcessServer(ServerConfig config, const Clock* clock) {
  options::Registry registry;
  Declare(registry, &config);
  Status s = registry.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
  config.downstream.Resolve();
  auto started = App::Start(config, clock);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  if (!started.ok()) return;
  app = std::move(started.value());
  port = app->port();
}

ServerProcess::ServerProcess(const TempDir& dir, const std::vector<std::string>& extra_args,
                             int port, const std::string& log_name) {
  std::vector<std::string> argv = {RP_SERVER_BIN, "serve", "--port", std::to_string(port)};
  for (const std::string& a : LedgerArgs(dir.File("ledger.db"))) argv.push_back(a);
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto child = ChildProcess::Spawn(argv,
                                   {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                                    std::string("RP_PAYMENT_SECRET=") + kPaymentSecret,
                                    std::string("RP_REWARD_SECRET=") + kRewardSecret},
                                   dir.File(log_name));
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return;
  child_.emplace(std::move(child.value()));
  auto line = child_->ReadLine(15000);
  EXPECT_TRUE(line.ok()) << "rp-server did not start: " << line.status().ToString();
  if (!line.ok()) return;
  auto listening = ParseListeningPort(*line);
  EXPECT_TRUE(listening.ok()) << listening.status().ToString();
  port_ = listening.ok() ? *listening : 0;
}

MockProcess::MockProcess(const TempDir& dir) {
  std::filesystem::create_directories(dir.File("mock"));
  auto child = ChildProcess::Spawn(
      {RP_MOCK_BIN, "serve", "--port", "0", "--data-dir", dir.File("mock"), "--seed", "7"},
      {std::string("RP_PAYMENT_SECRET=") + kPaymentSecret,
       std::string("RP_REWARD_SECRET=") + kRewardSecret},
      dir.File("mock.log"));
  EXPECT_TRUE(child.ok());
  if (!child.ok()) return;
  child_.emplace(std::move(child.value()));
  auto line = child_->ReadLine(10000);
  EXPECT_TRUE(line.ok()) << "rp-mock did not start";
  if (line.ok()) url_ = line->substr(line->find("http://"));
}

nlohmann::json MockProcess::Post(const std::string& path, const nlohmann::json& body) {
  httplib::Client c(url_);
  auto r = c.Post(path, body.dump(), "application/json");
  return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
}

nlohmann::json MockProcess::Get(const std::string& path) {
  httplib::Client c(url_);
  auto r = c.Get(path);
  return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
}

std::string MockProcess::GetText(const std::string& path) {
  httplib::Client c(url_);
  auto r = c.Get(path);
  return r && r->status == 200 ? r->body : std::string();
}

std::string PromtoolProblems(const std::string& metrics_text) {
  TempDir dir;
  { std::ofstream(dir.File("metrics.txt")) << metrics_text; }
  // promtool reads the exposition from stdin; its verdict goes to stdout/stderr.
  auto child = ChildProcess::Spawn(
      {"/bin/sh", "-c", "promtool check metrics < " + dir.File("metrics.txt") + " 2>&1"}, {},
      dir.File("promtool.err"));
  if (!child.ok()) return "promtool could not start: " + child.status().ToString();
  std::string said;
  for (auto line = child->ReadLine(30000); line.ok(); line = child->ReadLine(30000)) {
    said += *line + "\n";
  }
  auto code = child->Wait(30000);
  if (!code.ok()) return "promtool did not finish";
  if (*code == 127) return "promtool is not installed (./rp setup installs Debian's prometheus)";
  return *code == 0 ? "" : said.empty() ? "promtool failed without a word" : said;
}

void MockProcess::ResetSwitches() {
  httplib::Client c(url_);
  c.Delete("/admin/switches");
}

RedisProcess::RedisProcess(const TempDir& dir) : rp::RedisProcess(dir.File("redis")) {
  Status started = Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
}

::testing::AssertionResult LedgerConserves(const std::string& db_path) {
  bool ok = false;
  auto report = CheckLedger(LedgerFor(db_path), &ok);
  if (!report.ok()) return ::testing::AssertionFailure() << report.status().ToString();
  if (!ok) return ::testing::AssertionFailure() << *report;
  return ::testing::AssertionSuccess() << *report;
}

bool Eventually(const std::function<bool()>& pred, int max_ms) {
  for (int waited = 0; waited < max_ms; waited += 20) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

int64_t PaidPacketThroughMock(Client& client, const std::string& order, int64_t count,
                              const std::string& audience) {
  api::SendBody b;
  b.order_no = order;
  b.total_cents = count * 100;
  b.count = count;
  b.audience = audience;
  Reply sent = client.SendPacket(1, b);
  EXPECT_EQ(sent.status, 201) << sent.raw;
  const int64_t id = sent.body.value("packet_id", int64_t{0});
  EXPECT_TRUE(Eventually([&] {
    return client.Get("/v1/packets/" + std::to_string(id), 1).body["status"] == "active";
  }));
  return id;
}

int64_t PaidPacket(Client& client, const std::string& order, int64_t total_cents, int64_t count,
                   int64_t sender, const std::string& split) {
  Reply sent = client.SendPacket(sender, order, total_cents, count, split);
  EXPECT_EQ(sent.status, 201) << sent.raw;
  Reply paid = client.Pay(sent.body.value("pay_order_no", ""), "paid", total_cents);
  EXPECT_EQ(paid.status, 200) << paid.raw;
  EXPECT_EQ(paid.body.value("status", ""), "active") << paid.raw;
  return sent.body.value("packet_id", int64_t{0});
}

int64_t PacketActivatedByPaymentService(Client& client, const std::string& order,
                                        int64_t total_cents, int64_t count) {
  Reply sent = client.SendPacket(1, order, total_cents, count);
  EXPECT_EQ(sent.status, 201) << sent.raw;
  const int64_t id = sent.body.value("packet_id", int64_t{0});
  EXPECT_TRUE(Eventually([&] {
    return client.Get("/v1/packets/" + std::to_string(id), 1).body["status"] == "active";
  }));
  return id;
}

}  // namespace rp::testing
