// DashboardWidget: the rp-dash window — a header (scenario, scheme, seed, checks) and eight
// charts sharing one time axis: the load (planned vs achieved arrivals, drops), requests/s,
// latency (p99; p50 on demand), rejections and errors by code, lock contention, queues,
// reconciliation drift, stability. Phases are shaded blue and faults red on every chart; axes
// tick on round numbers; one operation keeps one colour on every chart. Several runs are
// overlaid (solid, dashed, dotted) with their label in the legend. UI thread only.
#pragma once

#include <QColor>
#include <QLabel>
#include <QWidget>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "dashboard/run_data.h"

class QChart;
class QChartView;
class QAbstractAxis;

namespace rp::dash {

class DashboardWidget : public QWidget {
 public:
  explicit DashboardWidget(QWidget* parent = nullptr);
  // Redraws every chart from runs (copied into the chart series; kept for a redraw when an
  // option changes).
  void Show(const std::vector<RunData>& runs);
  // Latency chart: p99 always, p50 too when on (off by default, so many operations stay
  // readable). Redraws.
  void SetShowP50(bool on);
  // A line under the header, e.g. "live http://…: disconnected, retrying".
  void SetStatus(const QString& text, bool ok);
  // The series of one chart as drawn, for tests: name -> point count.
  std::map<std::string, int> SeriesPointCounts(Chart chart) const;
  // For tests: the colour of a drawn line series, its axes' tick steps and ranges, the x
  // axis title, and the names of shaded bands.
  QColor SeriesColor(Chart chart, const std::string& name) const;
  NiceAxis YAxis(Chart chart) const;
  NiceAxis XAxis(Chart chart) const;
  std::string XTitle(Chart chart) const;
  std::vector<std::string> BandNames(Chart chart) const;

 private:
  void Draw(Chart chart, const std::vector<RunData>& runs);
  // One shaded band (a fault, or breakers open) from f.start_s to f.end_s across the chart.
  static void Shade(QChart* chart, QAbstractAxis* x, QAbstractAxis* y, const FaultSpan& f,
                    double y_max, const std::string& prefix, QColor color, bool legend);
  QColor ColorFor(Chart chart, const std::string& series, size_t* next_free);
  double t_max_ = 1;
  bool show_p50_ = false;
  std::vector<RunData> runs_;
  std::map<std::string, QColor> op_colors_;  // One colour per operation, on every chart.
  QLabel* header_;
  QLabel* status_;
  std::array<QChart*, kChartCount> charts_{};
  std::array<QChartView*, kChartCount> views_{};
};

}  // namespace rp::dash
