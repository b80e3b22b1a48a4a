// rp-dash: the Redpacket Lab dashboard (Qt 6 Widgets + Qt Charts).
//   rp-dash --live http://HOST:PORT [--live URL…]  scrape /metrics every second, rolling charts
//   rp-dash --prometheus http://HOST:9090 [--last 15m | --from T --to T]  a past window
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
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/options_cli.h"
#include "common/version/version.h"
#include "dashboard/dashboard_widget.h"
#include "dashboard/export.h"
#include "dashboard/prometheus_source.h"
#include "dashboard/run_data.h"

namespace {

// Scrapes /metrics of every URL on its own thread (never the UI thread) into a LiveMetrics
// under a mutex; the texts of one round are added as one scrape (rp-server instances and
// rp-sim side by side). Up only when every URL answered.
class LiveFeed {
 public:
  explicit LiveFeed(std::vector<std::string> urls) : urls_(std::move(urls)) {
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
    std::vector<std::unique_ptr<httplib::Client>> clients;
    for (const std::string& url : urls_) {
      clients.push_back(std::make_unique<httplib::Client>(url));
      clients.back()->set_connection_timeout(0, 500'000);
      clients.back()->set_read_timeout(1, 0);
    }
    const auto start = std::chrono::steady_clock::now();
    while (!stop_) {
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string texts;
      bool all = true;
      for (auto& client : clients) {
        auto r = client->Get("/metrics");
        all = all && r && r->status == 200;
        if (r && r->status == 200) texts += r->body + "\n";
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        const bool parsed = !texts.empty() && live_.AddScrape(t, texts).ok();
        up_ = all && parsed;
        if (!up_) live_.AddDown(t);
      }
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<std::string> urls_;
  std::mutex mu_;
  rp::dash::LiveMetrics live_;
  bool up_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Joined(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& u : urls) out += (out.empty() ? "" : " + ") + u;
  return out;
}

}  // namespace

namespace {

// --live URL --export PNG: a snapshot of a live server after live_seconds of scraping.
int ExportLive(int argc, char** argv, const std::vector<std::string>& live_urls,
               const std::string& png, int live_seconds) {
  rp::dash::UseOffscreenWithoutDisplay();
  QApplication app(argc, argv);
  LiveFeed feed(live_urls);
  std::this_thread::sleep_for(std::chrono::seconds(live_seconds));
  bool up = false;
  rp::dash::RunData d = feed.Snapshot(&up);
  d.header = "live: " + Joined(live_urls) + (up ? "" : " (disconnected at the end)");
  rp::Status s = rp::dash::ExportPng({d}, png);
  if (!s.ok()) {
    std::cerr << "rp-dash: " << s.message() << "\n";
    return 1;
  }
  std::cout << "rp-dash: wrote " << png << " after " << live_seconds << " s of scraping\n";
  return 0;
}

// The window: results folders drawn once, or a live server redrawn every second.
int ShowWindow(int argc, char** argv, const std::vector<std::string>& live_urls,
               const std::vector<rp::dash::RunData>& data) {
  QApplication app(argc, argv);
  rp::dash::DashboardWidget window;
  window.setWindowTitle("rp-dash");
  window.resize(1500, 1000);
  std::unique_ptr<LiveFeed> feed;
  QTimer timer;
  if (!live_urls.empty()) {
    feed = std::make_unique<LiveFeed>(live_urls);
    QObject::connect(&timer, &QTimer::timeout, [&] {
      bool up = false;
      rp::dash::RunData d = feed->Snapshot(&up);
      d.header = "live: " + Joined(live_urls);
      window.Show({d});
      window.SetStatus(
          up ? "connected, scraping /metrics every second" : "disconnected — retrying every second",
          up);
    });
    timer.start(1000);
  } else {
    window.Show(data);
    const bool from_prometheus = data.size() == 1 && data.front().label == "prometheus";
    window.SetStatus(from_prometheus ? QString("a window read from Prometheus")
                                     : QString("%1 run(s) from results folders").arg(data.size()),
                     true);
  }
  window.show();
  return app.exec();
}

}  // namespace

// The runs to draw once: results folders, or a window read from Prometheus. Exit code 2 (said
// on stderr) when one cannot be read.
int LoadRuns(const std::vector<std::string>& dirs, const std::string& prometheus,
             const std::string& from, const std::string& to, const std::string& last,
             int64_t step_s, std::vector<rp::dash::RunData>* out) {
  if (!prometheus.empty()) {
    auto window = rp::dash::ParsePrometheusWindow(prometheus, from, to, last, step_s,
                                                  static_cast<int64_t>(std::time(nullptr)));
    if (!window.ok()) {
      std::cerr << "rp-dash: " << window.status().message() << "\n";
      return 2;
    }
    auto loaded = rp::dash::LoadFromPrometheus(*window);
    if (!loaded.ok()) {
      std::cerr << "rp-dash: " << loaded.status().message() << "\n";
      return 2;
    }
    out->push_back(std::move(loaded.value()));
    return 0;
  }
  for (const std::string& dir : dirs) {
    auto loaded = rp::dash::LoadRunFolder(dir);
    if (!loaded.ok()) {
      std::cerr << "rp-dash: " << loaded.status().message() << "\n";
      return 2;
    }
    out->push_back(std::move(loaded.value()));
  }
  return 0;
}

int main(int argc, char** argv) {
  CLI::App cli{"rp-dash: Redpacket Lab dashboard"};
  cli.set_version_flag("--version", rp::VersionLine("rp-dash"));
  std::vector<std::string> live_urls, runs;
  std::string export_png, prometheus, from, to, last;
  int64_t step_s = 0;
  cli.add_option("--live", live_urls,
                 "URL to scrape /metrics from every second, e.g. http://127.0.0.1:8080; repeat "
                 "it for several instances and rp-sim --metrics-listen");
  cli.add_option("--prometheus", prometheus,
                 "Read a past window from this Prometheus, e.g. http://127.0.0.1:9090");
  cli.add_option("--last", last,
                 "With --prometheus: the window ending now, e.g. 90s, 15m, 2h "
                 "(default 15m)");
  cli.add_option("--from", from, "With --prometheus: start, RFC 3339 UTC or Unix seconds");
  cli.add_option("--to", to, "With --prometheus: end, RFC 3339 UTC or Unix seconds (default now)");
  cli.add_option("--step", step_s,
                 "With --prometheus: seconds per point (default: about 600 "
                 "points)");
  cli.add_option("--export", export_png,
                 "Render the results to this PNG and exit (no display needed)");
  cli.add_option("runs", runs, "Results folders written by rp-sim (overlaid)");
  int live_seconds = 10;
  cli.add_option("--seconds", live_seconds, "With --live --export: scrape this long, then export")
      ->check(CLI::Range(2, 3600));
  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;
  const int sources = !live_urls.empty() + !runs.empty() + !prometheus.empty();
  if (sources != 1) {
    std::cerr << "rp-dash: give one of --live URL, --prometheus URL or results folders\n";
    return 2;
  }
  if (prometheus.empty() && !(from.empty() && to.empty() && last.empty() && step_s == 0)) {
    std::cerr << "rp-dash: --from, --to, --last and --step go with --prometheus\n";
    return 2;
  }
  if (!export_png.empty() && !live_urls.empty()) {
    return ExportLive(argc, argv, live_urls, export_png, live_seconds);
  }
  std::vector<rp::dash::RunData> data;
  if (live_urls.empty()) {
    if (int rc = LoadRuns(runs, prometheus, from, to, last, step_s, &data); rc != 0) return rc;
  }
  if (export_png.empty()) return ShowWindow(argc, argv, live_urls, data);
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
