#include "simulator/results/svg_chart.h"

#include "common/axis_ticks.h"

#include "simulator/results/markup.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace rp::sim {
namespace {

constexpr int kLeftPx = 64, kRightPx = 16, kTopPx = 28, kBottomPx = 40, kLegendRowPx = 16;

std::string Num(double v) {
  char buf[32];
  if (std::fabs(v) >= 1000 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

std::string Px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::vector<double> NiceTicks(double max, int target) {
  if (!(max > 0) || !std::isfinite(max)) return {0, 1};
  const double step = NiceStep(max, target);
  std::vector<double> ticks;
  for (double t = 0; t < max + step * 0.999; t += step) ticks.push_back(t);
  return ticks;
}

std::string RenderSvg(const SvgChart& c) {
  double x_max = c.x_max, y_max = 0;
  for (const SvgSeries& s : c.series) {
    for (const auto& [x, y] : s.xy) {
      x_max = std::max(x_max, x);  // Never cut a line off at the plan's end (the drain).
      if (std::isfinite(y)) y_max = std::max(y_max, y);
    }
  }
  const std::vector<double> xt = NiceTicks(x_max, 10), yt = NiceTicks(y_max, 5);
  const double x_top = xt.back(), y_top = yt.back();
  const int legend_rows = static_cast<int>((c.series.size() + 5) / 6);
  const int height = c.height_px + legend_rows * kLegendRowPx + 8;
  const double plot_w = c.width_px - kLeftPx - kRightPx, plot_h = c.height_px - kTopPx - kBottomPx;
  auto X = [&](double x) { return kLeftPx + plot_w * x / x_top; };
  auto Y = [&](double y) { return kTopPx + plot_h * (1 - y / y_top); };
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << c.width_px << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << c.width_px << ' ' << height << "\" role=\"img\" aria-label=\""
    << EscapeMarkup(c.title) << "\">\n";
  o << "<text x=\"" << kLeftPx << "\" y=\"18\" class=\"title\">" << EscapeMarkup(c.title)
    << "</text>\n";
  for (const SvgBand& b : c.bands) {
    const double x0 = X(std::clamp(b.start, 0.0, x_top)), x1 = X(std::clamp(b.end, 0.0, x_top));
    o << "<rect x=\"" << Px(x0) << "\" y=\"" << kTopPx << "\" width=\""
      << Px(std::max(1.0, x1 - x0)) << "\" height=\"" << Px(plot_h) << "\" fill=\""
      << EscapeMarkup(b.color) << "\"><title>" << EscapeMarkup(b.label) << "</title></rect>\n";
    o << "<text x=\"" << Px(x0 + 2) << "\" y=\"" << kTopPx + (b.label_row + 1) * 11
      << "\" class=\"band\">" << EscapeMarkup(b.label) << "</text>\n";
  }
  for (double t : yt) {
    o << "<line x1=\"" << kLeftPx << "\" x2=\"" << Px(kLeftPx + plot_w) << "\" y1=\"" << Px(Y(t))
      << "\" y2=\"" << Px(Y(t)) << "\" class=\"grid\"/><text x=\"" << kLeftPx - 6 << "\" y=\""
      << Px(Y(t) + 4) << "\" class=\"tick\" text-anchor=\"end\">" << Num(t) << "</text>\n";
  }
  for (double t : xt) {
    o << "<text x=\"" << Px(X(t)) << "\" y=\"" << Px(kTopPx + plot_h + 16)
      << "\" class=\"tick\" text-anchor=\"middle\">" << Num(t) << "</text>\n";
  }
  o << "<text x=\"" << Px(kLeftPx + plot_w / 2) << "\" y=\"" << Px(kTopPx + plot_h + 32)
    << "\" class=\"axis\" text-anchor=\"middle\">" << EscapeMarkup(c.x_label) << "</text>\n";
  o << "<text x=\"12\" y=\"" << Px(kTopPx + plot_h / 2)
    << "\" class=\"axis\" transform=\"rotate(-90 12 " << Px(kTopPx + plot_h / 2)
    << ")\" text-anchor=\"middle\">" << EscapeMarkup(c.y_label) << "</text>\n";
  for (const SvgSeries& s : c.series) {
    if (s.xy.empty()) continue;
    o << "<polyline fill=\"none\" stroke=\"" << EscapeMarkup(s.color)
      << "\" stroke-width=\"1.5\" points=\"";
    for (const auto& [x, y] : s.xy) {
      if (std::isfinite(y)) o << Px(X(x)) << ',' << Px(Y(y)) << ' ';
    }
    o << "\"><title>" << EscapeMarkup(s.name) << "</title></polyline>\n";
  }
  for (size_t i = 0; i < c.series.size(); ++i) {
    const double lx = kLeftPx + static_cast<double>(i % 6) * 140;
    const double ly = c.height_px + 8 + static_cast<double>(i / 6) * kLegendRowPx;
    o << "<rect x=\"" << Px(lx) << "\" y=\"" << Px(ly - 9)
      << "\" width=\"12\" height=\"10\" fill=\"" << EscapeMarkup(c.series[i].color)
      << "\"/><text x=\"" << Px(lx + 16) << "\" y=\"" << Px(ly) << "\" class=\"legend\">"
      << EscapeMarkup(c.series[i].name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace rp::sim
