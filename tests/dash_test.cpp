// rp-dash: results folders and live /metrics turned into chart points, malformed input reported,
// and the dashboard exported to a PNG on Qt's offscreen platform (no display).
#include <gtest/gtest.h>

#include <QApplication>
#include <QImage>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "dashboard/dashboard_widget.h"
#include "dashboard/export.h"
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

}  // namespace
}  // namespace rp::dash

// The QApplication lives in main (not in a static), so it is gone before Qt's own globals are.
int main(int argc, char** argv) {
  setenv("QT_QPA_PLATFORM", "offscreen", 1);  // The tests never need a display.
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
