// rp-dash: the Redpacket Lab dashboard (Qt 6 Widgets + Qt Charts).
//   rp-dash --live http://HOST:PORT        scrape /metrics every second, rolling charts
//   rp-dash results/RUN [results/RUN_B…]   replay finished runs, overlaid
//   rp-dash --export out.png results/RUN [results/RUN_B]   render to a PNG without a display
//   rp-dash --live URL --export out.png [--seconds N]      a PNG of N seconds of a live server
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <QApplication>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/options_cli.h"
#include "common/version/version.h"
#include "dashboard/dashboard_widget.h"
#include "dashboard/export.h"
#include "dashboard/run_data.h"

namespace {

// Scrapes /metrics on its own thread (never the UI thread) into a LiveMetrics under a mutex.
class LiveFeed {
 public:
  explicit LiveFeed(std::string url) : url_(std::move(url)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~LiveFeed() {
    stop_ = true;
    thread_.join();
  }
  rp::dash::RunData Snapshot(bool* up) {
    std::lock_guard<std::mutex> lock(mu_);
    *up = up_;
    return live_.data();
  }

 private:
  void Loop() {
    httplib::Client client(url_);
    client.set_connection_timeout(0, 500'000);
    client.set_read_timeout(1, 0);
    const auto start = std::chrono::steady_clock::now();
    while (!stop_) {
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      auto r = client.Get("/metrics");
      {
        std::lock_guard<std::mutex> lock(mu_);
        up_ = r && r->status == 200 && live_.AddScrape(t, r->body).ok();
        if (!up_) live_.AddDown(t);
      }
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::string url_;
  std::mutex mu_;
  rp::dash::LiveMetrics live_;
  bool up_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

namespace {

// --live URL --export PNG: a snapshot of a live server after live_seconds of scraping.
int ExportLive(int argc, char** argv, const std::string& live_url, const std::string& png,
               int live_seconds) {
  rp::dash::UseOffscreenWithoutDisplay();
  QApplication app(argc, argv);
  LiveFeed feed(live_url);
  std::this_thread::sleep_for(std::chrono::seconds(live_seconds));
  bool up = false;
  rp::dash::RunData d = feed.Snapshot(&up);
  d.header = "live: " + live_url + (up ? "" : " (disconnected at the end)");
  rp::Status s = rp::dash::ExportPng({d}, png);
  if (!s.ok()) {
    std::cerr << "rp-dash: " << s.message() << "\n";
    return 1;
  }
  std::cout << "rp-dash: wrote " << png << " after " << live_seconds << " s of scraping\n";
  return 0;
}

// The window: results folders drawn once, or a live server redrawn every second.
int ShowWindow(int argc, char** argv, const std::string& live_url,
               const std::vector<rp::dash::RunData>& data) {
  QApplication app(argc, argv);
  rp::dash::DashboardWidget window;
  window.setWindowTitle("rp-dash");
  window.resize(1500, 1000);
  std::unique_ptr<LiveFeed> feed;
  QTimer timer;
  if (!live_url.empty()) {
    feed = std::make_unique<LiveFeed>(live_url);
    QObject::connect(&timer, &QTimer::timeout, [&] {
      bool up = false;
      rp::dash::RunData d = feed->Snapshot(&up);
      d.header = "live: " + live_url;
      window.Show({d});
      window.SetStatus(
          up ? "connected, scraping /metrics every second" : "disconnected — retrying every second",
          up);
    });
    timer.start(1000);
  } else {
    window.Show(data);
    window.SetStatus(QString("%1 run(s) from results folders").arg(data.size()), true);
  }
  window.show();
  return app.exec();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"rp-dash: Redpacket Lab dashboard"};
  cli.set_version_flag("--version", rp::VersionLine("rp-dash"));
  std::string live_url, export_png;
  std::vector<std::string> runs;
  cli.add_option("--live", live_url,
                 "Server URL to scrape /metrics from, e.g. http://127.0.0.1:8080");
  cli.add_option("--export", export_png,
                 "Render the results to this PNG and exit (no display needed)");
  cli.add_option("runs", runs, "Results folders written by rp-sim (overlaid)");
  int live_seconds = 10;
  cli.add_option("--seconds", live_seconds, "With --live --export: scrape this long, then export")
      ->check(CLI::Range(2, 3600));
  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;
  if (live_url.empty() == runs.empty()) {
    std::cerr << "rp-dash: give either --live URL or one or more results folders\n";
    return 2;
  }
  if (!export_png.empty() && !live_url.empty()) {
    return ExportLive(argc, argv, live_url, export_png, live_seconds);
  }
  std::vector<rp::dash::RunData> data;
  for (const std::string& dir : runs) {
    auto loaded = rp::dash::LoadRunFolder(dir);
    if (!loaded.ok()) {
      std::cerr << "rp-dash: " << loaded.status().message() << "\n";
      return 2;
    }
    data.push_back(std::move(loaded.value()));
  }
  if (export_png.empty()) return ShowWindow(argc, argv, live_url, data);
  rp::dash::UseOffscreenWithoutDisplay();
  QApplication app(argc, argv);
  rp::Status s = rp::dash::ExportPng(data, export_png);
  if (!s.ok()) {
    std::cerr << "rp-dash: " << s.message() << "\n";
    return 1;
  }
  std::cout << "rp-dash: wrote " << export_png << "\n";
  return 0;
}
