// rp-sim's measuring parts that need no running system: the capacity search's knee, the run's
// statistics and phase shapes, the log-linear histogram's accuracy, the Prometheus text parser,
// rp-sim's own /metrics, and the private work folders it writes in.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "common/prometheus_text.h"
#include "common/results/run_summary.h"
#include "simulator/engine/load_engine.h"
#include "simulator/exporter/client_metrics.h"
#include "simulator/run/campaign.h"
#include "simulator/run/capacity.h"
#include "simulator/run/run.h"
#include "simulator/run/work_dir.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/histogram.h"
#include "tests/support/harness.h"

namespace rp::sim {
namespace {

// A made-up load: `per_s` requests of op in each second of [from, to), each taking latency_ms,
// status 201 or the given one.
void Fill(LoadOutcome& load, const std::string& op, int64_t from_s, int64_t to_s, int per_s,
          int64_t latency_ms, int status = 201) {
  for (int64_t sec = from_s; sec < to_s; ++sec) {
    for (int i = 0; i < per_s; ++i) load.stats.Record(op, sec, status, latency_ms * 1000);
  }
}

TEST(Capacity, KneeIsTheLastStepBeforeARouteBrokeTheSlo) {
  CapacityOptions o;
  o.start_rate = 100;
  o.factor = 2;
  o.steps = 4;
  o.step_s = 3;
  o.slo_p99_ms = 100;
  Scenario s;
  s.path = "made_up.yaml";
  s.load.phases = CapacityPhases(o);
  ASSERT_EQ(s.load.phases.size(), 4u);
  EXPECT_EQ(s.load.phases[3].rate, 800);
  LoadOutcome load;
  Fill(load, "claim", 0, 3, 300, 5);
  Fill(load, "send", 0, 3, 100, 5);
  Fill(load, "claim", 3, 6, 600, 20);
  Fill(load, "send", 3, 6, 200, 30);
  Fill(load, "poll", 3, 6, 50, 1);
  Fill(load, "claim", 6, 9, 700, 20);
  Fill(load, "send", 6, 9, 250, 400);  // Sends break the SLO at the third step.
  Fill(load, "claim", 9, 12, 700, 900);
  CapacityAnalysis a = AnalyzeCapacity(s, load, o);
  ASSERT_EQ(a.steps.size(), 4u);
  EXPECT_TRUE(a.broke);
  ASSERT_TRUE(a.knee.has_value());
  EXPECT_EQ(*a.knee, 1u);
  EXPECT_DOUBLE_EQ(a.steps[1].routes["claim"].per_s, 600);
  EXPECT_FALSE(a.steps[2].routes["send"].ok);
  const std::string yaml = CapacityLimitsYaml(a.steps[*a.knee], o, s.path);
  EXPECT_NE(yaml.find("- {name: claim_capacity, route: claim, qps: 540, burst: 108}"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("- {name: get_packet_capacity, route: get_packet, qps: 45, burst: 9}"),
            std::string::npos);
  EXPECT_NE(CapacityMarkdown(a, o).find("Knee: 200 journeys/s"), std::string::npos);
  // rp-server takes the file as it is, every rule in force.
  rp::testing::TempDir dir;
  std::ofstream(dir.File("limits.yaml")) << yaml;
  ServerConfig config = rp::testing::TestConfig(dir);
  options::Registry registry;
  Declare(registry, &config);
  Status loaded = LoadServerConfig({dir.File("limits.yaml"), {}}, registry, &config);
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  ASSERT_EQ(config.limits.config.rules.size(), 3u);
  EXPECT_EQ(config.limits.config.rules[0].name, "claim_capacity");
  EXPECT_EQ(config.limits.config.rules[0].qps, 540);

  // Arrivals dropped at the simulator's bound: that step did not offer its rate, whatever the
  // latency of what did start.
  LoadOutcome dropped;
  Fill(dropped, "claim", 0, 12, 100, 5);
  for (int i = 0; i < 30; ++i) dropped.stats.RecordDropped(7);
  CapacityAnalysis cut = AnalyzeCapacity(s, dropped, o);
  ASSERT_TRUE(cut.knee.has_value());
  EXPECT_EQ(*cut.knee, 1u);
  EXPECT_EQ(cut.steps[2].dropped, 30);

  LoadOutcome calm;  // Never broken: no knee, and the report says to go higher.
  Fill(calm, "claim", 0, 12, 100, 5);
  CapacityAnalysis never = AnalyzeCapacity(s, calm, o);
  EXPECT_FALSE(never.knee.has_value());
  EXPECT_NE(CapacityMarkdown(never, o).find("the knee is above 800"), std::string::npos);
}

TEST(RunStats, RefusalsAreNotErrorsAndRecoveryIsCounted) {
  LoadOutcome load;
  Fill(load, "claim", 0, 5, 100, 2);
  Fill(load, "claim", 5, 8, 100, 1, 429);  // The spike's refusals...
  Fill(load, "claim", 5, 8, 50, 400);      // ...and slow admitted answers beside them.
  Fill(load, "claim", 8, 10, 100, 1, 429);
  Fill(load, "claim", 10, 12, 100, 2);
  const OpStats& op = load.stats.ops().at("claim");
  EXPECT_EQ(op.errors, 0);
  EXPECT_EQ(op.refused, 500);
  EXPECT_EQ(op.admitted_latency.ValueAtQuantile(1.0) / 1000, 400);
  EXPECT_DOUBLE_EQ(load.stats.RecoveryS("claim", 8), 2);  // Refusing until second 10.
  EXPECT_DOUBLE_EQ(load.stats.RecoveryS("claim", 10), 0);
  EXPECT_DOUBLE_EQ(load.stats.RecoveryS("claim", 20), -1);  // Nothing after: not recovered.
}

TEST(PhaseShape, RatesFollowTheShape) {
  Phase ramp;
  ramp.shape = "ramp";
  ramp.duration_s = 10;
  ramp.rate = 100;
  ramp.rate_end = 300;
  EXPECT_DOUBLE_EQ(ramp.RateAt(0), 100);
  EXPECT_DOUBLE_EQ(ramp.RateAt(5), 200);
  Phase waves;
  waves.shape = "waves";
  waves.rate = 50;
  waves.wave_period_s = 5;
  waves.wave_on_s = 2;
  EXPECT_DOUBLE_EQ(waves.RateAt(1.9), 50);
  EXPECT_DOUBLE_EQ(waves.RateAt(2.1), 0);
  EXPECT_DOUBLE_EQ(waves.RateAt(5.5), 50);
  Phase spike;
  spike.shape = "spike";
  spike.rate = 10;
  spike.spike_rate = 90;
  spike.spike_at_s = 3;
  spike.spike_s = 2;
  EXPECT_DOUBLE_EQ(spike.RateAt(2.9), 10);
  EXPECT_DOUBLE_EQ(spike.RateAt(4.9), 90);
  EXPECT_DOUBLE_EQ(spike.RateAt(5.0), 10);
}

TEST(Histogram, BucketsCoverEveryValueOnce) {
  for (int64_t v : {0, 1, 255, 256, 257, 511, 512, 1'000'000, 999'999'999}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(LatencyHistogram::BucketLow(b), v);
    EXPECT_GT(LatencyHistogram::BucketHigh(b), v);
  }
}

TEST(Histogram, PercentilesWithinOnePercentOfExact) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(7.0, 1.5);  // ~1 ms median, long tail (in us).
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const int64_t v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const int64_t exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    const int64_t approx = h.ValueAtQuantile(q);
    EXPECT_LE(std::llabs(approx - exact), std::max<int64_t>(1, exact / 100)) << "q=" << q;
  }
  EXPECT_EQ(h.ValueAtQuantile(1.0), values.back());
  EXPECT_EQ(h.count(), 200000);
}

TEST(PrometheusText, ParsesLabelsEscapesAndHistograms) {
  const std::string text = R"(# HELP rp_claims_total Claims by result.
# TYPE rp_claims_total counter
rp_claims_total{scheme="db_lock",result="won"} 12
rp_claims_total{scheme="db_lock",result="sold_out"} 30
rp_http_request_duration_seconds_bucket{route="/v1/x",le="0.005"} 7
rp_http_request_duration_seconds_bucket{route="/v1/x",le="+Inf"} 9
weird{path="a\"b\\c"} 1.5e3
recon_drift_cents 0
)";
  auto samples = prom::ParseText(text);
  ASSERT_TRUE(samples.ok()) << samples.status().ToString();
  ASSERT_EQ(samples->size(), 6u);
  EXPECT_EQ((*samples)[0].labels.at("result"), "won");
  EXPECT_EQ((*samples)[3].labels.at("le"), "+Inf");
  EXPECT_EQ((*samples)[4].labels.at("path"), "a\"b\\c");
  EXPECT_DOUBLE_EQ((*samples)[4].value, 1500);
  EXPECT_DOUBLE_EQ(prom::Sum(*samples, "rp_claims_total"), 42);
  EXPECT_FALSE(prom::ParseText("x{a=\"unterminated} 1\n").ok());
  EXPECT_FALSE(prom::ParseText("x 12abc\n").ok());
}

// rp-sim's own /metrics: what RunStats records is mirrored into Prometheus series with exactly
// its counts, served over HTTP, and the text passes promtool.
TEST(ClientMetrics, MirrorsWhatTheLoadRecordsAndPassesPromtool) {
  ClientMetrics metrics;
  RunStats stats;
  stats.set_listener(&metrics);
  metrics.BeginRun("smoke", "batched", "sqlite", 7);
  for (int i = 0; i < 5; ++i) stats.RecordArrival(0, 200);
  stats.RecordDropped(0);
  stats.Record("claim", 0, 201, 3'000);
  stats.Record("claim", 0, 409, 40'000);
  stats.Record("claim", 1, 0, 2'000'000);  // No answer: code "0".
  stats.Record("send", 1, 999, 1'000);     // Not a status: folded into "0" (bounded labels).
  metrics.OnJourneysInFlight(4);
  auto endpoint = MetricsEndpoint::Start("0", &metrics);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  std::string host;
  int port = 0;
  const std::string url = (*endpoint)->url();
  ASSERT_TRUE(
      ParseHttpUrl(url.substr(0, url.size() - std::string("/metrics").size()), &host, &port))
      << url;
  httplib::Client client(host, port);
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r) << url;
  ASSERT_EQ(r->status, 200);
  auto samples = prom::ParseText(r->body);
  ASSERT_TRUE(samples.ok()) << samples.status().ToString();
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& want) {
    double sum = 0;
    for (const prom::Sample& s : *samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : want) match = match && s.labels.count(k) && s.labels.at(k) == v;
      if (match) sum += s.value;
    }
    return sum;
  };
  EXPECT_EQ(value("rp_sim_requests_total", {{"op", "claim"}}), 3);
  EXPECT_EQ(value("rp_sim_requests_total", {{"op", "claim"}, {"code", "409"}}), 1);
  EXPECT_EQ(value("rp_sim_requests_total", {{"op", "claim"}, {"code", "0"}}), 1);
  EXPECT_EQ(value("rp_sim_requests_total", {{"op", "send"}, {"code", "0"}}), 1);
  EXPECT_EQ(value("rp_sim_request_duration_seconds_count", {{"op", "claim"}}), 3);
  EXPECT_NEAR(value("rp_sim_request_duration_seconds_sum", {{"op", "claim"}}), 2.043, 1e-9);
  EXPECT_EQ(value("rp_sim_request_duration_seconds_bucket", {{"op", "claim"}, {"le", "0.005"}}), 1);
  EXPECT_EQ(value("rp_sim_arrivals_total", {}), 5);
  EXPECT_EQ(value("rp_sim_arrivals_dropped_total", {{"reason", "in_flight_bound"}}), 1);
  EXPECT_EQ(value("rp_sim_arrival_lag_seconds_count", {}), 5);
  EXPECT_EQ(value("rp_sim_journeys_in_flight", {}), 4);
  EXPECT_EQ(value("rp_sim_load_running", {}), 1);
  EXPECT_EQ(value("rp_sim_run_info", {{"scenario", "smoke"}, {"seed", "7"}}), 1);
  EXPECT_EQ(rp::testing::PromtoolProblems(r->body), "");
  // The next run replaces the info series; between runs nothing is loading.
  metrics.EndRun();
  metrics.BeginRun("other", "db_lock", "postgres", 8);
  metrics.EndRun();
  const std::string text = metrics.Render();
  EXPECT_EQ(text.find("scenario=\"smoke\""), std::string::npos);
  EXPECT_NE(text.find("scenario=\"other\""), std::string::npos);
  EXPECT_NE(text.find("rp_sim_load_running 0"), std::string::npos);
}

// TMPDIR as it is while a test changes it.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const std::string& path) {
    const char* was = std::getenv("TMPDIR");
    if (was != nullptr) was_ = was;
    had_ = was != nullptr;
    setenv("TMPDIR", path.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (had_) {
      setenv("TMPDIR", was_.c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }

 private:
  std::string was_;
  bool had_ = false;
};

// A pid that was ours and is gone: a killed run's owner.
pid_t GonePid() {
  auto done = ChildProcess::Spawn({"/bin/true"});
  EXPECT_TRUE(done.ok());
  const pid_t pid = done->pid();
  EXPECT_TRUE(done->Wait(10000).ok());
  return pid;
}

// Anyone may plant rp-sim-* folders in a shared TMPDIR. The stale-folder scan used to send
// SIGQUIT to whatever pid a planted pg/data/postmaster.pid named (a root process was killed that
// way). Now it signals nothing it read, and reads only folders that are this user's own.
TEST(WorkDirs, APlantedPidFileIsNeverSignalledNorAnotherUsersFolderRead) {
  rp::testing::TempDir tmp;
  ScopedTmpdir scoped(tmp.path());
  auto victim = ChildProcess::Spawn({"/bin/sleep", "600"});
  ASSERT_TRUE(victim.ok());
  const pid_t gone = GonePid();
  auto plant = [&](const std::string& dir, mode_t mode) {
    std::filesystem::create_directories(dir + "/pg/data");
    std::ofstream(dir + "/rp-sim.pid") << gone << "\n";
    std::ofstream(dir + "/pg/data/postmaster.pid") << victim->pid() << "\n";
    chmod(dir.c_str(), mode);
  };
  plant(tmp.File("rp-sim-looks-ours"), 0700);  // As a killed run of ours would leave it.
  plant(tmp.File("rp-sim-open"), 0755);        // Not private: not rp-sim's mkdtemp.
  plant(tmp.File("elsewhere"), 0700);
  std::filesystem::create_directory_symlink(tmp.File("elsewhere"), tmp.File("rp-sim-link"));
  const bool root = geteuid() == 0;
  if (root) {
    plant(tmp.File("rp-sim-theirs"), 0700);
    ASSERT_EQ(chown(tmp.File("rp-sim-theirs").c_str(), 65534, 65534), 0);  // nobody's
  }
  const std::vector<std::string> found = CleanUpStaleWorkDirs();
  // The scan has returned: a signal it sent would be on its way. The victim lives on.
  EXPECT_FALSE(victim->Wait(1000).ok()) << "the process a planted pid file named was signalled";
  ASSERT_EQ(found.size(), 1u) << ::testing::PrintToString(found);
  EXPECT_EQ(found[0].rfind(tmp.File("rp-sim-looks-ours") + ": left by rp-sim " +
                               std::to_string(gone) + ", which is gone",
                           0),
            0u)
      << found[0];
  // What is not ours is not touched either: its pid file stays.
  for (const char* other : {"rp-sim-open", "rp-sim-link"}) {
    EXPECT_TRUE(std::filesystem::exists(tmp.File(other) + "/rp-sim.pid")) << other;
  }
  if (root) {
    EXPECT_TRUE(std::filesystem::exists(tmp.File("rp-sim-theirs/rp-sim.pid")));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.File("rp-sim-looks-ours/rp-sim.pid")));
  // A pid file that is a symlink (to another folder's, naming a gone run) is not read.
  plant(tmp.File("rp-sim-linked-pid"), 0700);
  std::filesystem::remove(tmp.File("rp-sim-linked-pid/rp-sim.pid"));
  std::filesystem::create_symlink(tmp.File("rp-sim-open/rp-sim.pid"),
                                  tmp.File("rp-sim-linked-pid/rp-sim.pid"));
  EXPECT_TRUE(CleanUpStaleWorkDirs().empty());
  EXPECT_FALSE(victim->Wait(200).ok());
}

// A work folder and the campaign's seed folder are new private folders (mkdtemp, 0700).
TEST(WorkDirs, MadeFoldersArePrivateAndNew) {
  rp::testing::TempDir tmp;
  ScopedTmpdir scoped(tmp.path());
  Result<std::string> work = MakeWorkDir();
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  Result<std::string> seed = MakePrivateTempDir("rp-campaign-seed");
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  for (const std::string& made : {*work, *seed}) {
    struct stat st {};
    ASSERT_EQ(lstat(made.c_str(), &st), 0) << made;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u) << made;
    EXPECT_EQ(made.rfind(tmp.path() + "/", 0), 0u) << made;
  }
  struct stat pid_file {};
  ASSERT_EQ(lstat((*work + "/rp-sim.pid").c_str(), &pid_file), 0);
  EXPECT_EQ(pid_file.st_mode & 07777, 0600u);
  EndWorkDir(*work);
  Result<std::string> again = MakePrivateTempDir("rp-campaign-seed");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *seed);
}

// A seed's scenario file is never written through a symlink in its place.
TEST(Campaign, TheDrawnFileRefusesASymlinkInItsPlace) {
  rp::testing::TempDir dir;
  const std::string victim = dir.File("victim.txt");
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_symlink(victim, dir.File("sim_smoke-seed-4.yaml"));
  Result<std::string> written =
      WriteCampaignScenario(RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", 4, dir.path());
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("cannot write " + dir.File("sim_smoke-seed-4.yaml")),
            std::string::npos)
      << written.status().message();
  std::ifstream in(victim);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "precious\n");
}

TEST(ClientMetrics, ABadOrBusyListenAddressIsRefused) {
  ClientMetrics metrics;
  for (const char* bad : {"", "abc", "70000", ":80", "127.0.0.1:", "-1"}) {
    auto e = MetricsEndpoint::Start(bad, &metrics);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("expected PORT or HOST:PORT"), std::string::npos)
        << e.status().message();
  }
  auto first = MetricsEndpoint::Start("127.0.0.1:0", &metrics);
  ASSERT_TRUE(first.ok());
  const std::string url = (*first)->url();
  const std::string port =
      url.substr(url.rfind(':') + 1, url.find("/metrics") - url.rfind(':') - 1);
  auto busy = MetricsEndpoint::Start(port, &metrics);
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("cannot listen"), std::string::npos);
}

// summary.json goes through one struct both ways: what is written reads back equal, a summary of
// an older version reads with the defaults it implies, and a field of the wrong type is refused
// as bad_results instead of throwing at a reader.
TEST(RunSummary, RoundTripsReadsOlderVersionsAndRefusesWrongTypes) {
  results::RunSummary s;
  s.scenario = "rt";
  s.seed = 7;
  s.system.claim_scheme = "cond_update";
  s.system.ledger = "postgres";
  s.system.instances = 2;
  s.system.server_settings = {{"packet.ttl_s", 10}};
  s.ops["claim"].requests = 12;
  s.ops["claim"].by_status["201"] = 9;
  s.checks.push_back({"p99(claim) < 5ms", "scenario", false, nullptr, "not measured"});
  s.faults.push_back({"redis_stop", 1.0, 1.1, 1.3, true, "stopped"});
  s.verification.violations = {"lost claim 3"};
  const nlohmann::json j = results::ToJson(s);
  EXPECT_FALSE(j.contains("exact"));  // Only --exact runs have it.
  EXPECT_EQ(j["schema_version"], results::kSummarySchemaVersion);
  Result<results::RunSummary> back = results::FromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(results::ToJson(*back), j);

  // Version 3: no instances, ledger or server settings; subsidy_mode and queue it had are ignored.
  const nlohmann::json v3 = {{"schema", results::kSummarySchema},
                             {"schema_version", 3},
                             {"scenario", "old"},
                             {"system", {{"claim_scheme", "db_lock"}, {"subsidy_mode", "hybrid"}}},
                             {"passed", true}};
  Result<results::RunSummary> old = results::FromJson(v3);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->system.ledger, "sqlite");
  EXPECT_EQ(old->system.instances, 1);
  EXPECT_TRUE(old->passed);

  nlohmann::json wrong = j;
  wrong["verification"]["ok"] = "yes";
  Result<results::RunSummary> refused = results::FromJson(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("summary.json"), std::string::npos);
  EXPECT_FALSE(results::FromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(results::FromJson({{"schema", "something-else"}}).ok());
}

}  // namespace
}  // namespace rp::sim
