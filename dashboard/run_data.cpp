#include "dashboard/run_data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace rp::dash {
namespace {

using nlohmann::json;

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cell += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  return cells;
}

// A CSV file as rows of named cells; InvalidArgument with file:line on a short row or a missing
// column.
class Csv {
 public:
  static Result<Csv> Read(const std::string& path, const std::vector<std::string>& required) {
    std::ifstream in(path);
    if (!in) return Status(Error::kBadResults, path + ": missing");
    Csv csv;
    std::string line;
    if (!std::getline(in, line)) return Status(Error::kBadResults, path + ": empty");
    csv.header_ = SplitCsv(line);
    for (const std::string& r : required) {
      if (std::find(csv.header_.begin(), csv.header_.end(), r) == csv.header_.end()) {
        return Status(Error::kBadResults, path + ":1: no column '" + r + "'");
      }
    }
    for (int n = 2; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      std::vector<std::string> cells = SplitCsv(line);
      if (cells.size() != csv.header_.size()) {
        return Status(Error::kBadResults, path + ":" + std::to_string(n) + ": " +
                                              std::to_string(cells.size()) + " cells, expected " +
                                              std::to_string(csv.header_.size()));
      }
      csv.rows_.push_back(std::move(cells));
      csv.lines_.push_back(n);
    }
    csv.path_ = path;
    return csv;
  }
  size_t size() const { return rows_.size(); }
  const std::vector<std::string>& header() const { return header_; }
  const std::string& Text(size_t row, const std::string& col) const {
    return rows_[row][Index(col)];
  }
  // The cell as a number; InvalidArgument naming file:line when it is not one.
  Result<double> Number(size_t row, const std::string& col) const {
    const std::string& s = Text(row, col);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
      return Status(Error::kBadResults, path_ + ":" + std::to_string(lines_[row]) + ": " + col +
                                            " '" + s + "' is not a number");
    }
    return v;
  }

 private:
  size_t Index(const std::string& col) const {
    return static_cast<size_t>(std::find(header_.begin(), header_.end(), col) - header_.begin());
  }
  std::string path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<int> lines_;
};

Status LoadTimeseries(const std::string& path, RunData& d) {
  const std::vector<std::string> cols = {
      "second",     "op",         "requests",         "p50_ms",     "p99_ms",
      "status_409", "status_410", "status_4xx_other", "status_5xx", "transport_errors"};
  Result<Csv> csv = Csv::Read(path, cols);
  if (!csv.ok()) return csv.status();
  for (size_t i = 0; i < csv->size(); ++i) {
    std::map<std::string, double> v;
    for (size_t c = 2; c < cols.size(); ++c) {
      Result<double> n = csv->Number(i, cols[c]);
      if (!n.ok()) return n.status();
      v[cols[c]] = *n;
    }
    Result<double> sec = csv->Number(i, "second");
    if (!sec.ok()) return sec.status();
    const double t = *sec + 0.5;  // The middle of the second the counts belong to.
    const std::string op = csv->Text(i, "op");
    d.Series(Chart::kThroughput, op).push_back({t, v["requests"]});
    if (op == "dropped_arrival" || op == "poll") continue;
    d.Series(Chart::kLatency, op + " p50").push_back({t, v["p50_ms"]});
    d.Series(Chart::kLatency, op + " p99").push_back({t, v["p99_ms"]});
    for (const char* code :
         {"status_409", "status_410", "status_4xx_other", "status_5xx", "transport_errors"}) {
      if (v[code] > 0)
        d.Series(Chart::kErrors, std::string(code) + " " + op).push_back({t, v[code]});
    }
  }
  return Status::Ok();
}

// Counters in server_metrics.csv become per-second rates; gauges are drawn as they are.
Status LoadServerMetrics(const std::string& path, RunData& d) {
  Result<Csv> csv = Csv::Read(path, {"elapsed_s", "up"});
  if (!csv.ok()) return csv.status();
  struct Plot {
    const char* column;
    Chart chart;
    const char* name;
    bool rate;
  };
  const Plot plots[] = {
      {"rp_lock_waiters", Chart::kContention, "lock waiters", false},
      {"rp_lock_wait_seconds_total", Chart::kContention, "lock wait s/s", true},
      {"rp_db_busy_retries_total", Chart::kContention, "DB busy retries/s", true},
      {"rp_scheme_fallbacks_total", Chart::kContention, "scheme fallbacks/s", true},
      {"rp_queue_lag_seconds", Chart::kQueue, "task queue lag s", false},
      {"rp_ledger_queue_depth", Chart::kQueue, "ledger writer queue", false},
      {"rp_stream_backlog", Chart::kQueue, "stream backlog", false},
      {"recon_drift_cents", Chart::kDrift, "drift cents", false},
      {"recon_discrepancies", Chart::kDrift, "open discrepancies", false},
  };
  std::map<std::string, std::pair<double, double>> last;
  for (size_t i = 0; i < csv->size(); ++i) {
    Result<double> t = csv->Number(i, "elapsed_s");
    Result<double> up = csv->Number(i, "up");
    if (!t.ok()) return t.status();
    if (!up.ok()) return up.status();
    if (*up == 0) continue;  // Server down: a gap, not zeros.
    for (const Plot& p : plots) {
      if (std::find(csv->header().begin(), csv->header().end(), p.column) == csv->header().end()) {
        continue;  // An older results folder without this column.
      }
      Result<double> v = csv->Number(i, p.column);
      if (!v.ok()) return v.status();
      if (!p.rate) {
        d.Series(p.chart, p.name).push_back({*t, *v});
        continue;
      }
      auto it = last.find(p.column);
      if (it != last.end() && *t > it->second.first) {
        const double delta = *v >= it->second.second ? *v - it->second.second : *v;
        d.Series(p.chart, p.name).push_back({*t, delta / (*t - it->second.first)});
      }
      last[p.column] = {*t, *v};
    }
  }
  return Status::Ok();
}

// A fault shades from its start to its recovery (redis_stop -> redis_start, mock_switch ->
// mock_reset) or, for instant ones (kill -9 and restart), over what it took, at least 1 s.
Status LoadFaults(const std::string& path, RunData& d) {
  Result<Csv> csv = Csv::Read(path, {"started_s", "ended_s", "action"});
  if (!csv.ok()) return csv.status();
  std::vector<FaultSpan> open;
  for (size_t i = 0; i < csv->size(); ++i) {
    Result<double> start = csv->Number(i, "started_s");
    Result<double> end = csv->Number(i, "ended_s");
    if (!start.ok()) return start.status();
    if (!end.ok()) return end.status();
    const std::string action = csv->Text(i, "action");
    const std::string closes = action == "redis_start"  ? "redis_stop"
                               : action == "mock_reset" ? "mock_switch"
                                                        : "";
    if (!closes.empty()) {
      for (auto it = open.begin(); it != open.end();) {
        if (it->label == closes) {
          d.faults.push_back({it->start_s, *end, closes + " … " + action});
          it = open.erase(it);
        } else {
          ++it;
        }
      }
      continue;
    }
    if (action == "redis_stop" || action == "mock_switch") {
      open.push_back({*start, 0, action});
    } else {
      d.faults.push_back({*start, std::max(*end, *start + 1.0), action});
    }
  }
  double last_t = 0;
  for (const auto& [chart, series] : d.charts) {
    for (const auto& [name, points] : series) {
      if (!points.empty()) last_t = std::max(last_t, points.back().t_s);
    }
  }
  for (const FaultSpan& f : open)
    d.faults.push_back({f.start_s, last_t, f.label + " (never undone)"});
  return Status::Ok();
}

Status LoadSummary(const std::string& path, RunData& d) {
  std::ifstream in(path);
  if (!in) return Status(Error::kBadResults, path + ": missing");
  const json s = json::parse(in, nullptr, false);
  if (s.is_discarded() || !s.is_object() || !s.contains("scenario") || !s.contains("system")) {
    return Status(Error::kBadResults, path + ": not an rp-sim summary");
  }
  int passed = 0, total = 0;
  for (const json& c : s.value("checks", json::array())) {
    ++total;
    passed += c.value("passed", false) ? 1 : 0;
  }
  const json& v = s.value("verification", json::object());
  d.label = s["system"].value("claim_scheme", "");
  d.header = s.value("scenario", "") + " · " + d.label + " · seed " +
             s.value("seed", json(0)).dump() + " · checks " + std::to_string(passed) + "/" +
             std::to_string(total) + " passed · " + "verification " +
             (v.value("ok", false) ? "ok" : "FAILED") + " · " +
             (s.value("passed", false) ? "PASSED" : "FAILED");
  return Status::Ok();
}

}  // namespace

const char* ChartTitle(Chart chart) {
  switch (chart) {
    case Chart::kThroughput:
      return "Requests per second, per operation";
    case Chart::kLatency:
      return "Latency p50 / p99 (ms), per operation";
    case Chart::kErrors:
      return "Rejections and errors per second, by code";
    case Chart::kContention:
      return "Lock contention: waiters, wait s/s, DB busy retries/s";
    case Chart::kQueue:
      return "Queues: async task lag (s), writer queue, stream backlog";
    case Chart::kDrift:
      return "Reconciliation drift (cents) and open discrepancies";
  }
  return "";
}

size_t RunData::PointCount() const {
  size_t n = 0;
  for (const auto& [chart, series] : charts) {
    for (const auto& [name, points] : series) n += points.size();
  }
  return n;
}

Result<RunData> LoadRunFolder(const std::string& dir) {
  RunData d;
  if (Status s = LoadSummary(dir + "/summary.json", d); !s.ok()) return s;
  if (Status s = LoadTimeseries(dir + "/timeseries.csv", d); !s.ok()) return s;
  if (Status s = LoadServerMetrics(dir + "/server_metrics.csv", d); !s.ok()) return s;
  if (Status s = LoadFaults(dir + "/faults.csv", d); !s.ok()) return s;
  if (d.PointCount() == 0) return Status(Error::kBadResults, dir + ": no data points");
  return d;
}

}  // namespace rp::dash
