#include "common/axis_ticks.h"

#include <algorithm>
#include <cmath>

namespace rp {

double NiceStep(double value_max, int ticks_max) {
  if (!(value_max > 0) || !std::isfinite(value_max)) return 1;
  const double raw = value_max / std::max(1, ticks_max);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= raw) break;
  }
  return step;
}

}  // namespace rp
