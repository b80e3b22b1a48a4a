// Rendering the dashboard to a PNG without a display (Qt's offscreen platform), for
// `rp-dash --export`, `./rp demo` and the tests.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "dashboard/run_data.h"

namespace rp::dash {

// Sets QT_QPA_PLATFORM=offscreen when there is no display and it is not set. Call before
// constructing the QApplication.
void UseOffscreenWithoutDisplay();

// Draws runs in a DashboardWidget of width_px x height_px and saves it as a PNG. Needs a
// QApplication. Internal when the file cannot be written.
Status ExportPng(const std::vector<RunData>& runs, const std::string& path, int width_px = 1600,
                 int height_px = 1100);

}  // namespace rp::dash
