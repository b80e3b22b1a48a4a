#include "dashboard/export.h"

#include <QApplication>
#include <QPixmap>
#include <cstdlib>

#include "dashboard/dashboard_widget.h"

namespace rp::dash {

void UseOffscreenWithoutDisplay() {
  if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) {
    setenv("QT_QPA_PLATFORM", "offscreen", /*overwrite=*/0);
  }
}

Status ExportPng(const std::vector<RunData>& runs, const std::string& path, int width_px,
                 int height_px) {
  DashboardWidget widget;
  widget.setFixedSize(width_px, height_px);  // The PNG has exactly the size asked for.
  widget.Show(runs);
  widget.SetStatus(QString("exported by rp-dash (%1 run(s))").arg(runs.size()), true);
  widget.show();
  QApplication::processEvents();  // Lay out and draw before grabbing.
  QPixmap pixmap = widget.grab();
  if (!pixmap.save(QString::fromStdString(path), "PNG")) {
    return Internal("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace rp::dash
