#include "dashboard/dashboard_widget.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLegendMarker>
#include <QLineSeries>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>

namespace rp::dash {
namespace {

const Qt::PenStyle kRunStyles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};
const QColor kColors[] = {QColor(31, 119, 180),  QColor(255, 127, 14), QColor(44, 160, 44),
                          QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194),
                          QColor(127, 127, 127), QColor(188, 189, 34), QColor(23, 190, 207),
                          QColor(214, 39, 40)};
const QColor kPlannedColor(90, 90, 90);
const QColor kDroppedColor(214, 39, 40);

bool IsP50(const std::string& series) {
  return series.size() > 4 && series.compare(series.size() - 4, 4, " p50") == 0;
}

// Values on a QValueAxis ticking every a.step from 0 (TicksDynamic), so labels are round.
QValueAxis* RoundAxis(const NiceAxis& a) {
  auto* axis = new QValueAxis();
  axis->setRange(0, a.max);
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(0);
  axis->setTickInterval(a.step);
  axis->setLabelFormat(QString("%.%1f").arg(a.decimals));
  return axis;
}

NiceAxis FromAxis(const QValueAxis* axis) {
  NiceAxis a;
  if (axis == nullptr) return a;
  a.max = axis->max();
  a.step = axis->tickInterval();
  return a;
}

}  // namespace

DashboardWidget::DashboardWidget(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  header_ = new QLabel(this);
  QFont bold = header_->font();
  bold.setBold(true);
  bold.setPointSize(bold.pointSize() + 2);
  header_->setFont(bold);
  status_ = new QLabel(this);
  auto* p50 = new QCheckBox("latency: also p50", this);
  p50->setToolTip("The latency chart shows p99 per operation; tick to add p50 (dotted, lighter)");
  connect(p50, &QCheckBox::toggled, this, [this](bool on) { SetShowP50(on); });
  auto* status_row = new QHBoxLayout();
  status_row->addWidget(status_, 1);
  status_row->addWidget(p50);
  layout->addWidget(header_);
  layout->addLayout(status_row);
  auto* grid = new QGridLayout();
  for (int i = 0; i < kChartCount; ++i) {
    charts_[i] = new QChart();
    charts_[i]->setTitle(ChartTitle(static_cast<Chart>(i)));
    charts_[i]->setAnimationOptions(QChart::NoAnimation);
    charts_[i]->legend()->setAlignment(Qt::AlignRight);
    views_[i] = new QChartView(charts_[i], this);  // The view owns the chart.
    views_[i]->setRenderHint(QPainter::Antialiasing);
    views_[i]->setMinimumSize(320, 200);
    grid->addWidget(views_[i], i / 2, i % 2);
  }
  layout->addLayout(grid, 1);
}

void DashboardWidget::SetStatus(const QString& text, bool ok) {
  status_->setText(text);
  status_->setStyleSheet(ok ? "color: #2a7a2a" : "color: #b00020; font-weight: bold");
}

void DashboardWidget::SetShowP50(bool on) {
  show_p50_ = on;
  std::vector<RunData> runs = std::move(runs_);
  Show(runs);
}

// An operation's colour is fixed the first time it is drawn and kept on every chart and every
// redraw; other series take the palette in order, after the planned/dropped colours.
QColor DashboardWidget::ColorFor(Chart chart, const std::string& series, size_t* next_free) {
  if (series == kPlannedSeries) return kPlannedColor;
  if (series == kDroppedSeries) return kDroppedColor;
  const std::string op = SeriesOperation(chart, series);
  if (op.empty()) return kColors[(*next_free)++ % 10];
  auto it = op_colors_.find(op);
  if (it != op_colors_.end()) return it->second;
  const QColor c = kColors[op_colors_.size() % 10];
  op_colors_[op] = c;
  return c;
}

void DashboardWidget::Show(const std::vector<RunData>& runs) {
  runs_ = runs;
  QStringList headers;
  for (const RunData& r : runs) headers << QString::fromStdString(r.header);
  header_->setText(headers.join("   |   "));
  t_max_ = 1;  // One time axis for every chart.
  for (const RunData& r : runs) {
    for (const auto& [chart, series] : r.charts) {
      for (const auto& [name, points] : series) {
        for (const Point& p : points) t_max_ = std::max(t_max_, p.t_s);
      }
    }
    for (const FaultSpan& f : r.faults) t_max_ = std::max(t_max_, f.end_s);
    for (const FaultSpan& f : r.breakers_open) t_max_ = std::max(t_max_, f.end_s);
    for (const FaultSpan& f : r.phases) t_max_ = std::max(t_max_, f.end_s);
  }
  // Operations take colours in name order, so two windows of the same runs agree.
  std::vector<std::string> ops;
  for (const RunData& r : runs) {
    for (Chart c : {Chart::kThroughput, Chart::kLatency}) {
      auto it = r.charts.find(c);
      if (it == r.charts.end()) continue;
      for (const auto& [name, points] : it->second) ops.push_back(SeriesOperation(c, name));
    }
  }
  std::sort(ops.begin(), ops.end());
  for (const std::string& op : ops) {
    if (!op_colors_.count(op)) op_colors_[op] = kColors[op_colors_.size() % 10];
  }
  for (int i = 0; i < kChartCount; ++i) Draw(static_cast<Chart>(i), runs);
}

void DashboardWidget::Draw(Chart chart_id, const std::vector<RunData>& runs) {
  QChart* chart = charts_[static_cast<int>(chart_id)];
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  double y_max = 0;
  size_t color = 0;
  std::vector<QLineSeries*> lines;
  for (size_t r = 0; r < runs.size(); ++r) {
    auto it = runs[r].charts.find(chart_id);
    if (it == runs[r].charts.end()) continue;
    for (const auto& [name, points] : it->second) {
      const bool p50 = chart_id == Chart::kLatency && IsP50(name);
      if (p50 && !show_p50_) continue;
      auto* line = new QLineSeries();
      QString label = QString::fromStdString(name);
      if (runs.size() > 1) label += QString(" [%1]").arg(QString::fromStdString(runs[r].label));
      line->setName(label);
      for (const Point& p : points) {
        line->append(p.t_s, p.value);
        y_max = std::max(y_max, p.value);
      }
      QPen pen = line->pen();
      QColor c = ColorFor(chart_id, name, &color);
      if (p50) c = c.lighter(140);
      pen.setStyle(p50 ? Qt::DotLine : name == kPlannedSeries ? Qt::DashLine : kRunStyles[r % 4]);
      pen.setColor(c);
      pen.setWidthF(p50 ? 1.2 : 1.6);
      line->setPen(pen);
      lines.push_back(line);
    }
  }
  const NiceAxis y_axis = NiceAxisFor(y_max * 1.05), x_axis = NiceAxisFor(t_max_, 10);
  QValueAxis* x = RoundAxis(x_axis);
  x->setTitleText(QString::fromStdString(runs.empty() ? "" : runs.front().time_axis));
  QValueAxis* y = RoundAxis(y_axis);
  const double y_top = y_axis.max;
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  // Phases and faults first, so the lines are drawn over the shading.
  for (const RunData& run : runs) {
    for (size_t i = 0; i < run.phases.size(); ++i) {
      // Alternating depth, so two adjacent phases are told apart.
      Shade(chart, x, y, run.phases[i], y_top, "", QColor(60, 120, 220, i % 2 ? 40 : 80),
            chart_id == Chart::kLoad);
    }
  }
  for (const RunData& run : runs) {
    for (const FaultSpan& f : run.faults) {
      Shade(chart, x, y, f, y_top, "fault: ", QColor(220, 40, 40), chart_id == Chart::kThroughput);
    }
    for (const FaultSpan& f : run.breakers_open) {
      Shade(chart, x, y, f, y_top, "", QColor(240, 150, 20), chart_id == Chart::kStability);
    }
  }
  for (QLineSeries* line : lines) {
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
}

void DashboardWidget::Shade(QChart* chart, QAbstractAxis* x, QAbstractAxis* y, const FaultSpan& f,
                            double y_max, const std::string& prefix, QColor color, bool legend) {
  auto* area = new QAreaSeries();
  auto* upper = new QLineSeries(area);  // QAreaSeries does not own its boundary series.
  upper->append(f.start_s, y_max);
  upper->append(f.end_s, y_max);
  area->setUpperSeries(upper);
  area->setName(QString::fromStdString(prefix + f.label));
  QColor fill = color, border = color;
  fill.setAlpha(color.alpha() < 255 ? color.alpha() / 2 : 45);
  border.setAlpha(color.alpha() < 255 ? color.alpha() : 90);
  area->setColor(fill);
  area->setBorderColor(border);
  chart->addSeries(area);
  area->attachAxis(x);
  area->attachAxis(y);
  for (QLegendMarker* m : chart->legend()->markers(area)) m->setVisible(legend);
}

QColor DashboardWidget::SeriesColor(Chart chart, const std::string& name) const {
  for (QAbstractSeries* s : charts_[static_cast<int>(chart)]->series()) {
    auto* line = qobject_cast<QLineSeries*>(s);
    if (line != nullptr && line->name().toStdString() == name) return line->pen().color();
  }
  return QColor();
}

NiceAxis DashboardWidget::YAxis(Chart chart) const {
  auto axes = charts_[static_cast<int>(chart)]->axes(Qt::Vertical);
  return FromAxis(axes.empty() ? nullptr : qobject_cast<QValueAxis*>(axes.front()));
}

NiceAxis DashboardWidget::XAxis(Chart chart) const {
  auto axes = charts_[static_cast<int>(chart)]->axes(Qt::Horizontal);
  return FromAxis(axes.empty() ? nullptr : qobject_cast<QValueAxis*>(axes.front()));
}

std::string DashboardWidget::XTitle(Chart chart) const {
  auto axes = charts_[static_cast<int>(chart)]->axes(Qt::Horizontal);
  return axes.empty() ? "" : axes.front()->titleText().toStdString();
}

std::vector<std::string> DashboardWidget::BandNames(Chart chart) const {
  std::vector<std::string> out;
  for (QAbstractSeries* s : charts_[static_cast<int>(chart)]->series()) {
    if (qobject_cast<QAreaSeries*>(s) != nullptr) out.push_back(s->name().toStdString());
  }
  return out;
}

std::map<std::string, int> DashboardWidget::SeriesPointCounts(Chart chart) const {
  std::map<std::string, int> out;
  for (QAbstractSeries* s : charts_[static_cast<int>(chart)]->series()) {
    if (auto* line = qobject_cast<QLineSeries*>(s)) {
      out[line->name().toStdString()] = static_cast<int>(line->count());
    }
  }
  return out;
}

}  // namespace rp::dash
