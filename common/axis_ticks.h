// Round tick steps for chart axes, shared by rp-dash (Qt charts) and rp-sim's HTML reports
// (SVG), so both label their axes alike. Pure; thread-safe.
#pragma once

namespace rp {

// The tick step for an axis from 0 to value_max with at most about ticks_max ticks: 1, 2 or 5
// times a power of ten, the smallest such step that keeps within ticks_max. 1 for a value_max
// that is not positive and finite.
double NiceStep(double value_max, int ticks_max);

}  // namespace rp
