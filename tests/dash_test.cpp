// rp-dash: results folders and live /metrics turned into chart points, malformed input reported,
// and the dashboard exported to a PNG on Qt's offscreen platform (no display).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <QApplication>
#include <QImage>
#include <array>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/process/process.h"
#include "common/process/redis_process.h"
#include "dashboard/dashboard_widget.h"
#include "dashboard/export.h"
#include "dashboard/prometheus_source.h"
#include "dashboard/run_data.h"
#include "tests/support/harness.h"

namespace rp::dash {
namespace {

const std::string kFixture = RP_SOURCE_DIR "/tests/data/dash_run";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fixture's header after `edit` changed its summary.json's `system` object.
std::string HeaderWithSystem(const std::function<void(nlohmann::json&)>& edit) {
  rp::testing::TempDir dir;
  std::filesystem::copy(kFixture, dir.path(), std::filesystem::copy_options::recursive);
  nlohmann::json summary = nlohmann::json::parse(ReadFile(dir.File("summary.json")));
  edit(summary["system"]);
  std::ofstream(dir.File("summary.json")) << summary.dump();
  auto d = LoadRunFolder(dir.path());
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? d->header : "";
}

TEST(RunFolder, HeaderSaysWhichLedgerAndHowManyInstancesRan) {
  const std::string header = HeaderWithSystem([](nlohmann::json& system) {
    system["ledger"] = "postgres";
    system["instances"] = 2;
  });
  EXPECT_NE(header.find("· batched · postgres × 2 instances ·"), std::string::npos) << header;
}

TEST(RunFolder, HeaderOfARunAgainstATargetClaimsNoLedger) {
  const std::string header = HeaderWithSystem([](nlohmann::json& system) {
    system["started_by_rp_sim"] = false;
    system["ledger"] = "unknown";
    system["instances"] = 0;
  });
  EXPECT_NE(header.find("· the target's own system ·"), std::string::npos) << header;
}

TEST(RunFolder, LoadsEverySeriesOfTheFixture) {
  auto d = LoadRunFolder(kFixture);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  // A summary from before the ledger and instance count were recorded ran one SQLite instance.
  EXPECT_EQ(
      d->header,
      "fixture · batched · sqlite × 1 instance · seed 5 · checks 1/2 passed · verification ok "
      "· PASSED");
  EXPECT_EQ(d->charts[Chart::kThroughput]["claim"].size(), 4u);
  EXPECT_EQ(d->charts[Chart::kThroughput]["send"].size(), 2u);
  EXPECT_DOUBLE_EQ(d->charts[Chart::kThroughput]["claim"][2].value, 500);
  EXPECT_DOUBLE_EQ(d->charts[Chart::kLatency]["claim p99"][1].value, 9.0);
  EXPECT_EQ(d->charts[Chart::kErrors]["status_409 claim"].size(), 4u);
  EXPECT_EQ(d->charts[Chart::kErrors]["transport_errors claim"].size(), 1u);
  // Gauges skip the scrape where the server was down; counters become rates across a restart.
  EXPECT_EQ(d->charts[Chart::kContention]["lock waiters"].size(), 4u);
  const auto& wait = d->charts[Chart::kContention]["lock wait s/s"];
  ASSERT_EQ(wait.size(), 3u);
  EXPECT_DOUBLE_EQ(wait[0].value, 0.5);
  EXPECT_DOUBLE_EQ(wait[1].value, 0.1);  // Dropped 0.5 -> 0.2: restarted, 0.2 over 2 s.
  EXPECT_NEAR(wait[2].value, 0.7, 1e-9);
  EXPECT_DOUBLE_EQ(d->charts[Chart::kDrift]["drift cents"][2].value, 120);
  ASSERT_EQ(d->faults.size(), 2u);  // The kill, and switch … reset as one period.
  bool kill = false, switched = false;
  for (const FaultSpan& f : d->faults) {
    if (f.label == "server_kill") kill = f.end_s - f.start_s >= 1.0;
    if (f.label.find("mock_switch") == 0) switched = f.start_s < 1.1 && f.end_s > 3.0;
  }
  EXPECT_TRUE(kill);
  EXPECT_TRUE(switched);
}

TEST(RunFolder, MissingPartialOrMalformedIsReported) {
  rp::testing::TempDir dir;
  auto missing = LoadRunFolder(dir.File("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("summary.json: missing"), std::string::npos);

  std::filesystem::copy(kFixture, dir.File("run"));
  std::filesystem::remove(dir.File("run/server_metrics.csv"));
  auto partial = LoadRunFolder(dir.File("run"));
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("server_metrics.csv: missing"), std::string::npos);

  std::filesystem::copy(kFixture + "/server_metrics.csv", dir.File("run/server_metrics.csv"));
  std::ofstream(dir.File("run/timeseries.csv"), std::ios::app) << "4,claim,12\n";
  auto short_row = LoadRunFolder(dir.File("run"));
  ASSERT_FALSE(short_row.ok());
  EXPECT_NE(short_row.status().message().find("timeseries.csv:8: 3 cells"), std::string::npos)
      << short_row.status().message();

  std::ofstream(dir.File("run/summary.json")) << "{\"not\": \"a summary\"}";
  auto bad_summary = LoadRunFolder(dir.File("run"));
  ASSERT_FALSE(bad_summary.ok());
  EXPECT_NE(bad_summary.status().message().find("not an rp-sim summary"), std::string::npos);
}

TEST(RunFolder, RefusalsDegradedAnswersAndOpenBreakersAreDrawn) {
  rp::testing::TempDir dir;
  std::filesystem::copy(kFixture, dir.path(), std::filesystem::copy_options::recursive);
  std::ofstream(dir.File("server_metrics.csv"))
      << "elapsed_s,up,rp_claims_total,rp_limit_refused_total,rp_degraded_answers_total,"
         "rp_breakers_open,rp_feature_degraded\n"
      << "0.0,1,0,0,0,0,0\n1.0,1,10,100,0,1,1\n2.0,1,20,300,5,1,1\n3.0,1,30,300,5,0,0\n"
      << "4.0,1,40,300,5,1,0\n";
  auto d = LoadRunFolder(dir.path());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& refused = d->charts[Chart::kStability]["rate-limit 429s/s"];
  ASSERT_EQ(refused.size(), 4u);
  EXPECT_DOUBLE_EQ(refused[0].value, 100);
  EXPECT_DOUBLE_EQ(refused[1].value, 200);
  EXPECT_DOUBLE_EQ(refused[2].value, 0);
  EXPECT_DOUBLE_EQ(d->charts[Chart::kStability]["degraded answers/s"][1].value, 5);
  // Two bands: seconds 1-2, and the one-scrape opening at 4 (drawn a second wide).
  ASSERT_EQ(d->breakers_open.size(), 2u);
  EXPECT_DOUBLE_EQ(d->breakers_open[0].start_s, 1.0);
  EXPECT_DOUBLE_EQ(d->breakers_open[0].end_s, 2.0);
  EXPECT_DOUBLE_EQ(d->breakers_open[1].start_s, 4.0);
  EXPECT_DOUBLE_EQ(d->breakers_open[1].end_s, 5.0);
}

TEST(LiveMetrics, TwoScrapesOfARealServerBecomeRatesAndPercentiles) {
  LiveMetrics live;
  ASSERT_TRUE(live.AddScrape(1.0, ReadFile(RP_SOURCE_DIR "/tests/data/metrics_1.txt")).ok());
  ASSERT_TRUE(live.AddScrape(3.0, ReadFile(RP_SOURCE_DIR "/tests/data/metrics_2.txt")).ok());
  RunData d = live.data();
  // 3 sends in the first capture, 8 in the second, 2 s apart: 2.5 per second.
  ASSERT_EQ(d.charts[Chart::kThroughput]["POST /v1/packets"].size(), 1u);
  EXPECT_DOUBLE_EQ(d.charts[Chart::kThroughput]["POST /v1/packets"][0].value, 2.5);
  // One more 404 in between, read from the status label.
  ASSERT_EQ(d.charts[Chart::kErrors]["HTTP 404"].size(), 1u);
  EXPECT_DOUBLE_EQ(d.charts[Chart::kErrors]["HTTP 404"][0].value, 0.5);
  // The histogram's buckets of the interval give a latency for the sends.
  ASSERT_EQ(d.charts[Chart::kLatency]["POST /v1/packets p99"].size(), 1u);
  EXPECT_GT(d.charts[Chart::kLatency]["POST /v1/packets p99"][0].value, 0);
  EXPECT_FALSE(d.charts[Chart::kContention]["lock waiters"].empty());
  EXPECT_FALSE(d.charts[Chart::kDrift]["drift cents"].empty());

  const size_t before = live.data().PointCount();
  EXPECT_FALSE(live.AddScrape(4.0, "rp_claims_total{scheme=\"db_lock 7\n").ok());
  EXPECT_EQ(live.data().PointCount(), before);  // A malformed scrape adds nothing.
  live.AddDown(5.0);
  EXPECT_EQ(live.data().charts.at(Chart::kThroughput).at("server up").size(), 1u);
}

TEST(Export, WritesANonBlankPngOfTheRequestedSize) {
  auto d = LoadRunFolder(kFixture);
  ASSERT_TRUE(d.ok());
  rp::testing::TempDir dir;
  const std::string png = dir.File("dash.png");
  ASSERT_TRUE(ExportPng({*d}, png, 1200, 800).ok());
  QImage image(QString::fromStdString(png));
  ASSERT_FALSE(image.isNull());
  EXPECT_EQ(image.width(), 1200);
  EXPECT_EQ(image.height(), 800);
  // Not blank: the grey levels vary (axes, text, lines, fault shading on white).
  double sum = 0, sum_sq = 0;
  int n = 0;
  for (int y = 0; y < image.height(); y += 2) {
    for (int x = 0; x < image.width(); x += 2) {
      const double g = qGray(image.pixel(x, y));
      sum += g;
      sum_sq += g * g;
      ++n;
    }
  }
  const double mean = sum / n;
  const double variance = sum_sq / n - mean * mean;
  EXPECT_GT(variance, 100.0) << "mean " << mean;
}

TEST(Export, ChartsHoldTheFixturePointsAndOverlayRuns) {
  auto a = LoadRunFolder(kFixture);
  ASSERT_TRUE(a.ok());
  RunData b = *a;
  b.label = "db_lock";
  DashboardWidget widget;
  widget.Show({*a});
  auto counts = widget.SeriesPointCounts(Chart::kThroughput);
  EXPECT_EQ(counts["claim"], 4);
  EXPECT_EQ(counts["send"], 2);
  widget.Show({*a, b});
  counts = widget.SeriesPointCounts(Chart::kLatency);
  EXPECT_EQ(counts["claim p99 [batched]"], 4);
  EXPECT_EQ(counts["claim p99 [db_lock]"], 4);
}

// The load chart: the plan's rate (summary.json), what the generator started (offered minus
// dropped) and the drops; phases become bands; arrival rows are not requests.
TEST(RunFolder, LoadChartShowsPlannedAchievedAndDroppedAndPhaseBands) {
  rp::testing::TempDir dir;
  std::filesystem::copy(kFixture, dir.path(), std::filesystem::copy_options::recursive);
  nlohmann::json summary = nlohmann::json::parse(ReadFile(dir.File("summary.json")));
  summary["load"]["planned_arrivals_per_s"] = {40, 40, 80.5, 80.5};
  summary["phases"] = {{{"name", "warm"}, {"start_s", 0}, {"end_s", 2}},
                       {{"name", "peak"}, {"start_s", 2}, {"end_s", 4}}};
  std::ofstream(dir.File("summary.json")) << summary.dump();
  std::ofstream(dir.File("timeseries.csv"), std::ios::app)
      << "0,offered_arrival,41,0,0,0,0,0,0,0,0,0,0,0,0\n"
      << "1,offered_arrival,39,0,0,0,0,0,0,0,0,0,0,0,0\n"
      << "1,dropped_arrival,9,9,0,0,0,0,0,0,0,0,0,0,0\n"
      << "2,offered_arrival,5,0,0,0,0,0,0,0,0,0,0,0,0\n"
      << "2,dropped_arrival,5,5,0,0,0,0,0,0,0,0,0,0,0\n";
  auto d = LoadRunFolder(dir.path());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& planned = d->charts[Chart::kLoad][kPlannedSeries];
  ASSERT_EQ(planned.size(), 4u);
  EXPECT_DOUBLE_EQ(planned[2].value, 80.5);
  const auto& started = d->charts[Chart::kLoad][kStartedSeries];
  ASSERT_EQ(started.size(), 3u);
  EXPECT_DOUBLE_EQ(started[0].value, 41);
  EXPECT_DOUBLE_EQ(started[1].value, 30);
  EXPECT_DOUBLE_EQ(started[2].value, 0);  // All dropped: a zero, not a gap.
  EXPECT_EQ(d->charts[Chart::kLoad][kDroppedSeries].size(), 2u);
  EXPECT_EQ(d->charts[Chart::kThroughput].count("offered_arrival"), 0u);
  EXPECT_EQ(d->charts[Chart::kThroughput].count("dropped_arrival"), 0u);
  ASSERT_EQ(d->phases.size(), 2u);
  EXPECT_EQ(d->phases[1].label, "phase peak");
  EXPECT_DOUBLE_EQ(d->phases[1].start_s, 2);

  DashboardWidget widget;
  widget.Show({*d});
  auto bands = widget.BandNames(Chart::kLoad);
  EXPECT_NE(std::find(bands.begin(), bands.end(), "phase warm"), bands.end());
  EXPECT_NE(widget.XTitle(Chart::kLoad).find("replay"), std::string::npos);
  // The planned line is dashed grey; each operation one colour on every chart; p50 only on
  // demand.
  EXPECT_EQ(widget.SeriesColor(Chart::kThroughput, "claim"),
            widget.SeriesColor(Chart::kLatency, "claim p99"));
  EXPECT_NE(widget.SeriesColor(Chart::kThroughput, "claim"),
            widget.SeriesColor(Chart::kThroughput, "send"));
  EXPECT_EQ(widget.SeriesPointCounts(Chart::kLatency).count("claim p50"), 0u);
  widget.SetShowP50(true);
  EXPECT_EQ(widget.SeriesPointCounts(Chart::kLatency)["claim p50"], 4);
  // Round ticks: the throughput chart's largest value is 500 (claims in second 2).
  const NiceAxis y = widget.YAxis(Chart::kThroughput);
  EXPECT_DOUBLE_EQ(y.step, 100);
  EXPECT_DOUBLE_EQ(y.max, 600);
}

TEST(NiceAxis, TicksOnOneTwoOrFiveTimesAPowerOfTen) {
  struct Case {
    double value_max, max, step;
    int decimals;
  } cases[] = {{0, 1, 1, 0},          {525, 600, 100, 0}, {3270, 4000, 1000, 0},
               {0.23, 0.25, 0.05, 2}, {7, 7, 2, 0},       {1, 1, 0.2, 1}};
  for (const Case& c : cases) {
    NiceAxis a = NiceAxisFor(c.value_max);
    if (c.value_max == 7) {  // 7/6 = 1.17 -> step 2, max 8.
      EXPECT_DOUBLE_EQ(a.step, 2);
      EXPECT_DOUBLE_EQ(a.max, 8);
      continue;
    }
    EXPECT_DOUBLE_EQ(a.max, c.max) << c.value_max;
    EXPECT_NEAR(a.step, c.step, 1e-12) << c.value_max;
    EXPECT_EQ(a.decimals, c.decimals) << c.value_max;
  }
  EXPECT_DOUBLE_EQ(NiceAxisFor(std::nan("")).max, 1);
}

// Live: rp-server's own /metrics scrapes are left out; rp-sim's series, when scraped beside the
// server, give the load chart and the per-operation latency.
TEST(LiveMetrics, LeavesOutScrapesAndUsesTheClientSideWhenPresent) {
  const auto text = [](double claims, double scrapes, double arrivals, double dropped,
                       double fast) {
    std::ostringstream t;
    t << "rp_http_requests_total{route=\"POST /v1/packets/{id}/claims\",status=\"201\"} " << claims
      << "\nrp_http_requests_total{route=\"GET /metrics\",status=\"200\"} " << scrapes
      << "\nrp_sim_arrivals_total " << arrivals
      << "\nrp_sim_arrivals_dropped_total{reason=\"in_flight_bound\"} " << dropped
      << "\nrp_sim_request_duration_seconds_bucket{op=\"claim\",le=\"0.005\"} " << fast
      << "\nrp_sim_request_duration_seconds_bucket{op=\"claim\",le=\"+Inf\"} " << fast << "\n";
    return t.str();
  };
  LiveMetrics live;
  ASSERT_TRUE(live.AddScrape(1, text(100, 5, 50, 0, 100)).ok());
  ASSERT_TRUE(live.AddScrape(2, text(300, 6, 90, 10, 300)).ok());
  RunData d = live.data();
  EXPECT_EQ(d.charts[Chart::kThroughput].count("GET /metrics"), 0u);
  EXPECT_DOUBLE_EQ(d.charts[Chart::kThroughput]["POST /v1/packets/{id}/claims"][0].value, 200);
  EXPECT_EQ(d.charts[Chart::kErrors].size(), 0u);
  EXPECT_DOUBLE_EQ(d.charts[Chart::kLoad][kStartedSeries][0].value, 30);
  EXPECT_DOUBLE_EQ(d.charts[Chart::kLoad][kDroppedSeries][0].value, 10);
  ASSERT_EQ(d.charts[Chart::kLatency].count("claim p99"), 1u);  // By operation, not route.
  EXPECT_EQ(d.charts[Chart::kLatency].count("POST /v1/packets/{id}/claims p99"), 0u);
  EXPECT_NE(d.time_axis.find("live"), std::string::npos);
}

TEST(Prometheus, WindowFromTheCommandLine) {
  const int64_t now = 1'800'000'000;
  auto w = ParsePrometheusWindow("http://127.0.0.1:9090", "", "", "", 0, now);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->to_unix_s, now);
  EXPECT_EQ(w->from_unix_s, now - 900);  // The last 15 minutes by default.
  EXPECT_EQ(w->step_s, 1);
  w = ParsePrometheusWindow("http://h:9090/", "2026-12-02T21:00:00.250Z", "2026-12-02T23:00:00Z",
                            "", 0, now);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->url, "http://h:9090");
  EXPECT_EQ(w->to_unix_s - w->from_unix_s, 7200);
  EXPECT_EQ(w->step_s, 12);  // About 600 points.
  EXPECT_EQ(w->rate_window_s, 24);
  w = ParsePrometheusWindow("http://h:9090", "", "", "90s", 5, now);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->from_unix_s, now - 90);
  EXPECT_EQ(w->step_s, 5);
  for (const auto& [url, from, to, last] : std::vector<std::array<std::string, 4>>{
           {"h:9090", "", "", ""},
           {"http://h:9090", "", "", "15x"},
           {"http://h:9090", "yesterday", "", ""},
           {"http://h:9090", "2026-12-02T21:00:00", "", ""},  // No zone: refused.
           {"http://h:9090", "2026-13-02T21:00:00Z", "", ""},
           {"http://h:9090", "1800000100", "1800000000", ""},  // Reversed.
           {"http://h:9090", "1800000000", "", "5m"}}) {
    EXPECT_FALSE(ParsePrometheusWindow(url, from, to, last, 0, now).ok())
        << url << from << to << last;
  }
}

nlohmann::json Matrix(const nlohmann::json& result) {
  return {{"status", "success"}, {"data", {{"resultType", "matrix"}, {"result", result}}}};
}

TEST(Prometheus, AnswersBecomeChartPointsClientSideFirst) {
  auto w = ParsePrometheusWindow("http://h:9090", "1000", "1060", "", 10, 0);
  ASSERT_TRUE(w.ok());
  const std::vector<PrometheusQuery> queries = DashboardQueries(*w);
  std::vector<nlohmann::json> answers(queries.size(), Matrix(nlohmann::json::array()));
  for (size_t i = 0; i < queries.size(); ++i) {
    const std::string& q = queries[i].promql;
    if (q.find("rp_sim_requests_total") != std::string::npos) {
      answers[i] =
          Matrix({{{"metric", {{"op", "claim"}}}, {"values", {{1010, "250"}, {1020, "300"}}}}});
    } else if (q.find("sum by (route) (rate(rp_http_requests_total") != std::string::npos) {
      answers[i] = Matrix({{{"metric", {{"route", "GET /x"}}}, {"values", {{1010, "9"}}}}});
    } else if (q.find("histogram_quantile(0.99, sum by (op") != std::string::npos) {
      answers[i] =
          Matrix({{{"metric", {{"op", "claim"}}}, {"values", {{1010, "0.004"}, {1020, "NaN"}}}}});
    } else if (q == "sum(rp_breakers_open)") {
      answers[i] =
          Matrix({{{"metric", nlohmann::json::object()}, {"values", {{1030, "1"}, {1040, "0"}}}}});
    }
  }
  auto d = RunDataFromAnswers(*w, queries, answers);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->charts[Chart::kThroughput].count("GET /x"), 0u);  // rp-sim's side was there.
  ASSERT_EQ(d->charts[Chart::kThroughput]["claim"].size(), 2u);
  EXPECT_DOUBLE_EQ(d->charts[Chart::kThroughput]["claim"][0].t_s, 10);
  ASSERT_EQ(d->charts[Chart::kLatency]["claim p99"].size(), 1u);  // NaN: a gap.
  EXPECT_DOUBLE_EQ(d->charts[Chart::kLatency]["claim p99"][0].value, 4);
  ASSERT_EQ(d->breakers_open.size(), 1u);
  EXPECT_DOUBLE_EQ(d->breakers_open[0].start_s, 30);
  answers[0] = nlohmann::json{{"status", "error"}, {"error", "bad"}};
  EXPECT_FALSE(RunDataFromAnswers(*w, queries, answers).ok());
}

// A real Prometheus (Debian's) scraping a real rp-server every second; rp-dash reads the window
// back through the HTTP API.
TEST(Prometheus, AWindowOfARealPrometheusScrapingARealServer) {
  rp::testing::TempDir dir;
  rp::testing::ServerProcess server(dir);
  const int prom_port = rp::FreeLoopbackPort();
  std::ofstream(dir.File("prometheus.yml"))
      << "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: rp-server\n"
      << "    static_configs: [{targets: ['127.0.0.1:" << server.port() << "']}]\n";
  auto prom = rp::ChildProcess::Spawn(
      {"/usr/bin/prometheus", "--config.file=" + dir.File("prometheus.yml"),
       "--storage.tsdb.path=" + dir.File("tsdb"),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      {}, dir.File("prometheus.log"));
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();
  const int64_t start = static_cast<int64_t>(std::time(nullptr));
  httplib::Client api("127.0.0.1", prom_port), rp_server("127.0.0.1", server.port());
  // Requests keep coming while Prometheus gathers five scrapes (enough for a 20 s rate()).
  EXPECT_TRUE(rp::testing::Eventually(
      [&] {
        for (int i = 0; i < 20; ++i) (void)rp_server.Get("/v1/packets/1");  // 401s: answers.
        auto r = api.Get("/api/v1/query?query=count_over_time(up[1m])");
        if (!r || r->status != 200) return false;
        auto body = nlohmann::json::parse(r->body, nullptr, false);
        const auto& result = body["data"]["result"];
        return !result.empty() && std::stod(result[0]["value"][1].get<std::string>()) >= 5;
      },
      60000))
      << ReadFile(dir.File("prometheus.log"));
  auto w = ParsePrometheusWindow("http://127.0.0.1:" + std::to_string(prom_port),
                                 std::to_string(start - 5), std::to_string(std::time(nullptr) + 1),
                                 "", 1, 0);
  ASSERT_TRUE(w.ok());
  auto d = LoadFromPrometheus(*w);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->charts[Chart::kErrors]["HTTP 401"].empty());
  EXPECT_FALSE(d->charts[Chart::kThroughput]["GET /v1/packets/{id}"].empty());
  EXPECT_EQ(d->charts[Chart::kThroughput].count("GET /metrics"), 0u);
  EXPECT_FALSE(d->charts[Chart::kQueue]["ledger writer queue"].empty());
  EXPECT_NE(d->header.find("Prometheus http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(d->time_axis.find("from Prometheus"), std::string::npos);
  prom->Signal(SIGTERM);
  EXPECT_TRUE(prom->Wait(20000).ok());
  // Nobody home: said, not hung.
  auto gone = LoadFromPrometheus(*w);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("does not answer"), std::string::npos);
}

}  // namespace
}  // namespace rp::dash

// The QApplication lives in main (not in a static), so it is gone before Qt's own globals are.
int main(int argc, char** argv) {
  setenv("QT_QPA_PLATFORM", "offscreen", 1);  // The tests never need a display.
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
