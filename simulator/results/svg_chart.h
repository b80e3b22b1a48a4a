// SvgChart: a line chart as inline SVG text, for the self-contained HTML reports (no script, no
// external file: it renders wherever the report is opened, and a CI artifact viewer shows it).
// Axis ticks fall on round numbers (1, 2 or 5 times a power of ten); bands shade stretches of
// the x axis (load phases, faults) behind the lines. Plain data plus one pure function;
// thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rp::sim {

struct SvgSeries {
  std::string name;
  std::string color;                          // CSS colour, e.g. "#1f77b4".
  std::vector<std::pair<double, double>> xy;  // In x order.
};

struct SvgBand {
  double start = 0, end = 0;
  std::string color;  // With alpha, e.g. "rgba(255,165,0,0.25)".
  std::string label;  // Drawn at the band's top left,
  int label_row = 0;  // on this line from the top (phases 0, faults 1: they do not overlap).
};

struct SvgChart {
  std::string title;
  std::string x_label = "seconds";
  std::string y_label;
  double x_max = 0;  // At least this (the plan's length); more when the data goes on.
  std::vector<SvgSeries> series;
  std::vector<SvgBand> bands;
  int width_px = 900, height_px = 260;
};

// Round tick positions covering [0, max] (about `target` of them; at least [0, 1] for max <= 0).
std::vector<double> NiceTicks(double max, int target = 5);

// The chart as an <svg> element (with a legend); its text escaped.
std::string RenderSvg(const SvgChart& chart);

}  // namespace rp::sim
