#include "common/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include "common/check.h"

namespace rp::metrics {

prometheus::ClientMetric& Writer::Add(std::string_view name, std::string_view help,
                                      prometheus::MetricType type, const Labels& labels) {
  auto it = index_.find(name);
  if (it == index_.end()) {
    prometheus::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    families_.push_back(std::move(f));
    it = index_.emplace(std::string(name), families_.size() - 1).first;
  }
  prometheus::MetricFamily& family = families_[it->second];
  RP_CHECK(family.type == type);  // One name, one type: a programming error otherwise.
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  family.metric.push_back(std::move(m));
  return family.metric.back();
}

void Writer::Counter(std::string_view name, std::string_view help, double value,
                     const Labels& labels) {
  RP_CHECK(name.size() > 6 && name.substr(name.size() - 6) == "_total");
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value = value;
}

void Writer::Gauge(std::string_view name, std::string_view help, double value,
                   const Labels& labels) {
  RP_CHECK(!(name.size() > 6 && name.substr(name.size() - 6) == "_total"));
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void Hub::AddCollector(Collector collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Hub::Render() {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  Writer w;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Collector& c : collectors_) c(w);
  }
  for (prometheus::MetricFamily& f : w.Take()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

}  // namespace rp::metrics
