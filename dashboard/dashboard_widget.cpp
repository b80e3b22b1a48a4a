#include "dashboard/dashboard_widget.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QGridLayout>
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

}  // namespace

DashboardWidget::DashboardWidget(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  header_ = new QLabel(this);
  QFont bold = header_->font();
  bold.setBold(true);
  bold.setPointSize(bold.pointSize() + 2);
  header_->setFont(bold);
  status_ = new QLabel(this);
  layout->addWidget(header_);
  layout->addWidget(status_);
  auto* grid = new QGridLayout();
  for (int i = 0; i < kChartCount; ++i) {
    charts_[i] = new QChart();
    charts_[i]->setTitle(ChartTitle(static_cast<Chart>(i)));
    charts_[i]->setAnimationOptions(QChart::NoAnimation);
    charts_[i]->legend()->setAlignment(Qt::AlignRight);
    views_[i] = new QChartView(charts_[i], this);  // The view owns the chart.
    views_[i]->setRenderHint(QPainter::Antialiasing);
    views_[i]->setMinimumSize(320, 200);
    const bool last_alone = i == kChartCount - 1 && kChartCount % 2 == 1;
    grid->addWidget(views_[i], i / 2, i % 2, 1, last_alone ? 2 : 1);
  }
  layout->addLayout(grid, 1);
}

void DashboardWidget::SetStatus(const QString& text, bool ok) {
  status_->setText(text);
  status_->setStyleSheet(ok ? "color: #2a7a2a" : "color: #b00020; font-weight: bold");
}

void DashboardWidget::Show(const std::vector<RunData>& runs) {
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
  const double t_max = t_max_;
  double y_max = 0;
  size_t color = 0;
  std::vector<QLineSeries*> lines;
  for (size_t r = 0; r < runs.size(); ++r) {
    auto it = runs[r].charts.find(chart_id);
    if (it == runs[r].charts.end()) continue;
    for (const auto& [name, points] : it->second) {
      auto* line = new QLineSeries();
      QString label = QString::fromStdString(name);
      if (runs.size() > 1) label += QString(" [%1]").arg(QString::fromStdString(runs[r].label));
      line->setName(label);
      for (const Point& p : points) {
        line->append(p.t_s, p.value);
        y_max = std::max(y_max, p.value);
      }
      QPen pen = line->pen();
      pen.setStyle(kRunStyles[r % 4]);
      pen.setColor(kColors[color++ % 10]);
      pen.setWidthF(1.6);
      line->setPen(pen);
      lines.push_back(line);
    }
  }
  y_max = y_max > 0 ? y_max * 1.1 : 1;
  auto* x = new QValueAxis();
  x->setRange(0, t_max);
  x->setTitleText("seconds since the load started (live: since the first scrape)");
  x->setLabelFormat("%.0f");
  auto* y = new QValueAxis();
  y->setRange(0, y_max);
  y->setLabelFormat(y_max < 10 ? "%.2f" : "%.0f");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  // Faults first, so the lines are drawn over the shading.
  for (const RunData& run : runs) {
    for (const FaultSpan& f : run.faults) {
      Shade(chart, x, y, f, y_max, "fault: ", QColor(220, 40, 40), chart_id == Chart::kThroughput);
    }
    for (const FaultSpan& f : run.breakers_open) {
      Shade(chart, x, y, f, y_max, "", QColor(240, 150, 20), chart_id == Chart::kStability);
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
  fill.setAlpha(45);
  border.setAlpha(90);
  area->setColor(fill);
  area->setBorderColor(border);
  chart->addSeries(area);
  area->attachAxis(x);
  area->attachAxis(y);
  for (QLegendMarker* m : chart->legend()->markers(area)) m->setVisible(legend);
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
