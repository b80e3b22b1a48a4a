// The /metrics of one process (Prometheus text format 0.0.4), assembled from what each module
// registers: metrics a module updates on its own request path (prometheus-cpp counters and
// histograms in the shared registry, label handles cached by the module) and collectors that
// copy a module's stats structs into families at scrape time — counters for monotonic counts
// (names ending in _total), gauges for current values — so `promtool check metrics` agrees with
// every family's type.
//
// Thread-safe: Render() may run concurrently with updates; collectors must be registered before
// the first Render() and must only read thread-safe stats.
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rp::metrics {

using Labels = std::map<std::string, std::string>;

// Collects the samples of one scrape into families (one family per name, whatever the labels).
class Writer {
 public:
  // A monotonic count; its name must end in "_total".
  void Counter(std::string_view name, std::string_view help, double value,
               const Labels& labels = {});
  // A current value (depth, lag, state); its name must not end in "_total".
  void Gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  std::vector<prometheus::MetricFamily> Take() { return std::move(families_); }

 private:
  prometheus::ClientMetric& Add(std::string_view name, std::string_view help,
                                prometheus::MetricType type, const Labels& labels);
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t, std::less<>> index_;
};

using Collector = std::function<void(Writer&)>;

class Hub {
 public:
  Hub() : registry_(std::make_shared<prometheus::Registry>()) {}
  // For metrics updated where they happen. The registry outlives every module holding a metric.
  prometheus::Registry& registry() { return *registry_; }
  void AddCollector(Collector collect);
  // The text of one scrape: the registry's families, then each collector's, in order.
  std::string Render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::vector<Collector> collectors_;
};

// Latency buckets (seconds) shared by every latency histogram here: 0.1 ms .. 10 s.
std::vector<double> LatencyBuckets();

}  // namespace rp::metrics
