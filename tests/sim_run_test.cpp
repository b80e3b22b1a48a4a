// What a run says about itself: the plan's arrivals against those offered (a spike with no rate
// is refused when the file is read, a load short of its plan fails a plan check), the live
// progress line over the seconds it covers, and a --target that is not an rp-server refused
// before anything else, quickly.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/process/process.h"
#include "common/process/redis_process.h"
#include "simulator/run/plan_checks.h"
#include "simulator/run/progress_line.h"
#include "simulator/run/target_probe.h"
#include "simulator/scenario/scenario.h"
#include "tests/util/temp_dir.h"

namespace rp::sim {
namespace {

using Clock = std::chrono::steady_clock;

TEST(SpikePhase, WithoutSpikeRateIsRefusedWithFileAndLine) {
  rp::testing::TempDir dir;
  const std::string path = dir.File("s.yaml");
  for (const std::string& spike :
       {std::string("{name: peak, duration_s: 10, shape: spike, rate: 100, spike_at_s: 3, "
                    "spike_s: 2}"),
        std::string("{name: peak, duration_s: 10, shape: spike, rate: 100, spike_rate: 0, "
                    "spike_at_s: 3, spike_s: 2}")}) {
    std::ofstream(path) << "name: t\nload:\n  phases:\n    - " << spike
                        << "\nflows:\n  hot: {weight: 1}\n";
    Result<Scenario> s = LoadScenario(path);
    ASSERT_FALSE(s.ok()) << spike;
    EXPECT_NE(s.status().message().find("s.yaml:4: a spike needs spike_rate > 0"),
              std::string::npos)
        << s.status().message();
  }
}

// Constant 100/s, ramp 100 -> 300/s, a spike to 600/s for 2 s over 100/s, waves of 300/s 2 s in
// every 5 s: 10 s each, 1000 + 2000 + 2000 + 1200 arrivals planned.
Scenario FourShapes() {
  Scenario s;
  s.load.phases = {
      Phase{.name = "flat", .duration_s = 10, .rate = 100},
      Phase{.name = "up", .duration_s = 10, .shape = "ramp", .rate = 100, .rate_end = 300},
      Phase{.name = "peak",
            .duration_s = 10,
            .shape = "spike",
            .rate = 100,
            .spike_rate = 600,
            .spike_at_s = 3,
            .spike_s = 2},
      Phase{.name = "rain",
            .duration_s = 10,
            .shape = "waves",
            .rate = 300,
            .wave_period_s = 5,
            .wave_on_s = 2}};
  return s;
}

LoadOutcome Offered(int64_t arrivals, double load_s) {
  LoadOutcome load;
  for (int64_t i = 0; i < arrivals; ++i) load.stats.RecordArrival(i % 40, 0);
  load.load_seconds = load_s;
  return load;
}

const CheckResult* Named(const std::vector<CheckResult>& checks, const std::string& name) {
  for (const CheckResult& c : checks) {
    if (c.check == name) return &c;
  }
  return nullptr;
}

TEST(PlanArrivals, ThePlanIsTheIntegralOfItsRate) {
  const Scenario s = FourShapes();
  EXPECT_NEAR(PlannedArrivalsTotal(s, 40), 6200, 1e-6);
  EXPECT_NEAR(PlannedArrivalsTotal(s, 1.5), 150, 1e-6);  // An aborted load: its stretch only.
  EXPECT_NEAR(PlannedArrivalsTotal(s, 25), 1000 + 2000 + 3 * 100 + 2 * 600, 1e-6);
  Scenario closed = s;
  closed.load.model = "closed";
  EXPECT_EQ(PlannedArrivalsTotal(closed, 40), 0.0);
}

// A generator that left the spike out (what a spike with no spike_rate planned) offered 1200
// arrivals fewer than the plan: the plan check fails and says so. One that offered twice the
// plan fails too.
TEST(PlanArrivals, OfferedArrivalsShortOfThePlanFail) {
  const Scenario s = FourShapes();
  const std::vector<CheckResult> holed = PlanChecks(s, Offered(5000, 40), {});
  const CheckResult* c = Named(holed, "offered_arrivals match the plan");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "plan");
  EXPECT_FALSE(c->passed);
  EXPECT_NE(c->detail.find("offered_arrivals = 5000, the plan's rate integrates to 6200"),
            std::string::npos)
      << c->detail;
  EXPECT_NE(c->detail.find("1200 fewer than planned"), std::string::npos) << c->detail;
  EXPECT_FALSE(
      Named(PlanChecks(s, Offered(12400, 40), {}), "offered_arrivals match the plan")->passed);
  EXPECT_TRUE(
      Named(PlanChecks(s, Offered(6200, 40), {}), "offered_arrivals match the plan")->passed);
}

// The bound is Poisson noise: 5 standard deviations (sqrt of the mean) and 5, at least 2%.
// Counts a correct generator draws all pass; a count just past the bound fails.
TEST(PlanArrivals, PoissonNoisePassesAndTheBoundIsWhatItSays) {
  EXPECT_DOUBLE_EQ(OfferedArrivalsSlack(10'000), 505);        // 5 x 100 + 5 > 2% (200).
  EXPECT_DOUBLE_EQ(OfferedArrivalsSlack(1'000'000), 20'000);  // 2% > 5 x 1000 + 5.
  std::mt19937_64 rng(11);
  for (double expected : {5.0, 200.0, 6200.0, 300'000.0}) {
    std::poisson_distribution<int64_t> draw(expected);
    for (int run = 0; run < 2000; ++run) {
      const int64_t offered = draw(rng);
      ASSERT_TRUE(OfferedArrivalsCheck(expected, offered).passed)
          << expected << " planned, " << offered << " offered";
    }
  }
  EXPECT_FALSE(OfferedArrivalsCheck(10'000, 9'494).passed);
  EXPECT_TRUE(OfferedArrivalsCheck(10'000, 9'495).passed);
  EXPECT_TRUE(OfferedArrivalsCheck(10'000, 10'505).passed);
  EXPECT_FALSE(OfferedArrivalsCheck(10'000, 10'506).passed);
}

Progress Second(double elapsed_s, double claim_p99_ms, int64_t errors) {
  Progress p;
  p.phase = "peak";
  p.elapsed_s = elapsed_s;
  p.total_s = 30;
  p.requests_per_s = 100 * elapsed_s;
  p.claim_p99_ms = claim_p99_ms;
  p.errors = errors;
  p.journeys_active = static_cast<int>(elapsed_s);
  return p;
}

// A line printed every 5 s shows the worst second among those 5, not the last one's, and every
// error since the previous line.
TEST(ProgressLineFold, ShowsTheWorstSecondAndEveryErrorSinceTheLastLine) {
  ProgressFold fold;
  const double p99_ms[] = {40, 203, 74, 0, 12};
  for (int i = 0; i < 5; ++i) fold.Add(Second(i + 1, p99_ms[i], i + 1));
  const ProgressLine line = fold.Take();
  EXPECT_EQ(line.seconds, 5);
  EXPECT_DOUBLE_EQ(line.claim_p99_ms_worst, 203);
  EXPECT_EQ(line.errors, 15);
  EXPECT_DOUBLE_EQ(line.requests_per_s_mean, 300);
  EXPECT_EQ(line.latest.journeys_active, 5);
  const std::string text = FormatProgressLine(line);
  EXPECT_NE(text.find("p99(claim) worst 1s  203.00 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("errors 15 in 5 s"), std::string::npos) << text;
  EXPECT_NE(text.find("   5/30 s"), std::string::npos) << text;
  // The next line starts afresh: the 203 ms second is behind it.
  fold.Add(Second(6, 9, 0));
  const ProgressLine next = fold.Take();
  EXPECT_EQ(next.seconds, 1);
  EXPECT_DOUBLE_EQ(next.claim_p99_ms_worst, 9);
  EXPECT_EQ(next.errors, 0);
}

// An HTTP server on a free loopback port, answering /healthz with `status` and `body`.
class FakeHealthz {
 public:
  FakeHealthz(int status, std::string body) {
    server_.Get("/healthz", [status, body](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost and join() would wait forever.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeHealthz() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(TargetProbe, OnlyAnRpServerHealthzIsAccepted) {
  EXPECT_TRUE(ProbeRpServer("127.0.0.1", FakeHealthz(200, R"({"status":"ok"})").port()).ok());
  FakeHealthz not_found(404, "no such page");
  EXPECT_EQ(ProbeRpServer("127.0.0.1", not_found.port()).message(),
            not_found.url() + " is not an rp-server: GET /healthz answered 404");
  FakeHealthz other(200, "<html>hello</html>");
  EXPECT_NE(ProbeRpServer("127.0.0.1", other.port())
                .message()
                .find("answered 200 but not rp-server's {\"status\": \"ok\"}: <html>hello</html>"),
            std::string::npos);
  FakeHealthz unwell(503, R"({"status":"writes_stopped"})");
  EXPECT_NE(ProbeRpServer("127.0.0.1", unwell.port())
                .message()
                .find("is an rp-server that takes no writes now: GET /healthz answered 503"),
            std::string::npos);
  const int closed = FreeLoopbackPort();
  EXPECT_NE(ProbeRpServer("127.0.0.1", closed).message().find("found nothing listening"),
            std::string::npos);
}

// A socket that listens but never accepts: the kernel completes the connection, nothing answers.
TEST(TargetProbe, ASilentTargetIsRefusedAfterTheTimeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const auto start = Clock::now();
  const Status st = ProbeRpServer("127.0.0.1", ntohs(addr.sin_port), 1);
  close(fd);
  EXPECT_NE(st.message().find("is not an rp-server: GET /healthz did not answer within 1 s"),
            std::string::npos)
      << st.message();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

struct SimExit {
  int code = -1;
  std::string output;
  double seconds = 0;
};

SimExit RunSimAgainst(const std::string& command, const std::string& url,
                      const rp::testing::TempDir& dir) {
  const std::string scenario = dir.File("c2c.yaml");
  std::ofstream(scenario) << "name: c2c\nload:\n  phases:\n    - {name: p, duration_s: 10, "
                             "rate: 20}\nflows:\n  c2c: {weight: 1}\n";
  const auto start = Clock::now();
  SimExit out;
  auto child = ChildProcess::Spawn(
      {RP_SIM_BIN, command, scenario, "--quiet", "--out", dir.File("out"), "--target", url},
      {"RP_AUTH_SECRET=" + std::string(32, 'a'), "RP_PAYMENT_SECRET=" + std::string(32, 'b')},
      dir.File("stderr"));
  if (!child.ok()) return out;
  for (auto line = child->ReadLine(120000); line.ok(); line = child->ReadLine(120000)) {
    out.output += *line + "\n";
  }
  Result<int> code = child->Wait(120000);
  out.code = code.ok() ? *code : -1;
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::ifstream err(dir.File("stderr"));
  out.output += std::string(std::istreambuf_iterator<char>(err), {});
  return out;
}

// rp-sim run and compare against a service that answers 404 (or nothing listening): exit 2 in
// seconds, saying what was found — not a whole load of 404s and a verification's wait.
TEST(TargetProbe, RunAndCompareRefuseATargetThatIsNotAnRpServer) {
  rp::testing::TempDir dir;
  FakeHealthz not_found(404, "");
  for (const char* command : {"run", "compare"}) {
    const SimExit sim = RunSimAgainst(command, not_found.url(), dir);
    EXPECT_EQ(sim.code, 2) << command << ": " << sim.output;
    EXPECT_NE(sim.output.find("rp-sim: " + not_found.url() +
                              " is not an rp-server: GET /healthz answered 404"),
              std::string::npos)
        << command << ": " << sim.output;
    EXPECT_LT(sim.seconds, 8) << command;
  }
  const std::string nobody = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
  const SimExit sim = RunSimAgainst("run", nobody, dir);
  EXPECT_EQ(sim.code, 2) << sim.output;
  EXPECT_NE(sim.output.find(nobody + " is not an rp-server"), std::string::npos) << sim.output;
  EXPECT_LT(sim.seconds, 8);
}

// A password in --target's URL is not printed: the refusal names the target without it.
TEST(TargetProbe, APasswordInTheTargetIsNotPrinted) {
  rp::testing::TempDir dir;
  const std::string port = std::to_string(FreeLoopbackPort());
  const SimExit sim = RunSimAgainst("run", "http://u:secret@127.0.0.1:" + port, dir);
  EXPECT_EQ(sim.code, 2) << sim.output;
  EXPECT_EQ(sim.output.find("secret"), std::string::npos) << sim.output;
  EXPECT_NE(sim.output.find("http://u:***@127.0.0.1:" + port), std::string::npos) << sim.output;
}

// --campaign-seed wrote a fixed name in a shared folder ($TMPDIR/rp-campaign-seeds/<stem>-seed-
// <N>.yaml): a symlink planted there had rp-sim overwrite whatever it pointed to. Now the drawn
// file goes into a new private folder (mkdtemp, 0700) and the planted link is left alone.
TEST(CampaignSeed, TheDrawnScenarioIsNotWrittenThroughAPlantedSymlink) {
  rp::testing::TempDir dir;
  const std::string victim = dir.File("victim.txt");
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_directories(dir.File("tmp/rp-campaign-seeds"));
  std::filesystem::create_symlink(victim, dir.File("tmp/rp-campaign-seeds/sim_smoke-seed-3.yaml"));
  // --target nonsense: refused (exit 2) right after the seed's file is written and read back.
  auto child = ChildProcess::Spawn(
      {RP_SIM_BIN, "run", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--campaign-seed", "3",
       "--target", "nonsense", "--out", dir.File("out")},
      {"TMPDIR=" + dir.File("tmp")}, dir.File("stderr"));
  ASSERT_TRUE(child.ok());
  std::string output;
  for (auto line = child->ReadLine(60000); line.ok(); line = child->ReadLine(60000)) {
    output += *line + "\n";
  }
  Result<int> code = child->Wait(60000);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2) << output;
  std::ifstream in(victim);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "precious\n");
  const std::string said =
      "rp-sim: campaign seed 3 of " RP_SOURCE_DIR "/tests/data/sim_smoke.yaml: ";
  const size_t at = output.find(said);
  ASSERT_NE(at, std::string::npos) << output;
  const std::string drawn =
      output.substr(at + said.size(), output.find('\n', at) - at - said.size());
  const std::filesystem::path folder = std::filesystem::path(drawn).parent_path();
  EXPECT_EQ(folder.string().rfind(dir.File("tmp/rp-campaign-seed-"), 0), 0u) << drawn;
  EXPECT_EQ(std::filesystem::status(folder).permissions(), std::filesystem::perms::owner_all)
      << folder;
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(drawn))) << drawn;
  EXPECT_TRUE(LoadScenario(drawn).ok());
}

}  // namespace
}  // namespace rp::sim
