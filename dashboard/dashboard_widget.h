// DashboardWidget: the rp-dash window — a header (scenario, scheme, seed, checks) and six charts
// sharing one time axis: requests/s, latency p50/p99, rejections and errors by code, lock
// contention, queues, reconciliation drift. Fault periods are shaded on every chart. Several runs
// are overlaid (solid, dashed, dotted) with their label in the legend. UI thread only.
#pragma once

#include <QColor>
#include <QLabel>
#include <QWidget>
#include <array>
#include <vector>

#include "dashboard/run_data.h"

class QChart;
class QChartView;
class QAbstractAxis;

namespace rp::dash {

class DashboardWidget : public QWidget {
 public:
  explicit DashboardWidget(QWidget* parent = nullptr);
  // Redraws every chart from runs (copied into the chart series).
  void Show(const std::vector<RunData>& runs);
  // A line under the header, e.g. "live http://…: disconnected, retrying".
  void SetStatus(const QString& text, bool ok);
  // The series of one chart as drawn, for tests: name -> point count.
  std::map<std::string, int> SeriesPointCounts(Chart chart) const;

 private:
  void Draw(Chart chart, const std::vector<RunData>& runs);
  // One shaded band (a fault, or breakers open) from f.start_s to f.end_s across the chart.
  static void Shade(QChart* chart, QAbstractAxis* x, QAbstractAxis* y, const FaultSpan& f,
                    double y_max, const std::string& prefix, QColor color, bool legend);
  double t_max_ = 1;
  QLabel* header_;
  QLabel* status_;
  std::array<QChart*, kChartCount> charts_{};
  std::array<QChartView*, kChartCount> views_{};
};

}  // namespace rp::dash
