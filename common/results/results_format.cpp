#include "common/results/results_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <ostream>

namespace rp::results {

std::string DescribeSystem(const std::string& ledger, int instances, bool started_by_rp_sim) {
  if (!started_by_rp_sim) return "the target's own system";
  return ledger + " × " + std::to_string(instances) + " instance" + (instances == 1 ? "" : "s");
}

namespace {

constexpr const char* kTimeseriesColumns[] = {
    "time",       "second",           "op",         "requests",
    "errors",     "status_200",       "status_201", "status_409",
    "status_410", "status_4xx_other", "status_5xx", "transport_errors",
    "p50_ms",     "p90_ms",           "p99_ms",     "max_ms"};
constexpr const char* kFaultColumns[] = {"started_at", "planned_s", "started_s", "ended_s",
                                         "action",     "ok",        "detail"};

std::string F(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string CsvQuote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

template <size_t N>
void WriteHeader(std::ostream& out, const char* const (&columns)[N]) {
  for (size_t i = 0; i < N; ++i) out << (i ? "," : "") << columns[i];
  out << '\n';
}

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

// A CSV file as rows of named cells.
class Csv {
 public:
  static Result<Csv> Read(const std::string& path, const std::vector<std::string>& required) {
    std::ifstream in(path);
    if (!in) return Status(Error::kBadResults, path + ": missing");
    Csv csv;
    csv.path_ = path;
    std::string line;
    if (!std::getline(in, line)) return Status(Error::kBadResults, path + ": empty");
    csv.header_ = SplitCsv(line);
    for (const std::string& r : required) {
      if (!csv.Has(r)) return Status(Error::kBadResults, path + ":1: no column '" + r + "'");
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
    return csv;
  }
  size_t size() const { return rows_.size(); }
  const std::vector<std::string>& header() const { return header_; }
  bool Has(const std::string& col) const {
    return std::find(header_.begin(), header_.end(), col) != header_.end();
  }
  const std::string& Text(size_t row, const std::string& col) const {
    return rows_[row][Index(col)];
  }
  // The cell as a number; bad_results naming file:line when it is not one.
  Status Number(size_t row, const std::string& col, double* out) const {
    const std::string& s = Text(row, col);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
      return Status(Error::kBadResults, path_ + ":" + std::to_string(lines_[row]) + ": " + col +
                                            " '" + s + "' is not a number");
    }
    *out = v;
    return Status::Ok();
  }
  // A count: a whole number that fits int64 (a double past 2^63 converted to int64 would be
  // undefined behaviour; 5.5e36 is a malformed file, not a count).
  Status Int(size_t row, const std::string& col, int64_t* out) const {
    double v = 0;
    if (Status s = Number(row, col, &v); !s.ok()) return s;
    if (!(v >= -9.2e18 && v <= 9.2e18) || std::floor(v) != v) {
      return Status(Error::kBadResults, path_ + ":" + std::to_string(lines_[row]) + ": " + col +
                                            " is not a whole number in range");
    }
    *out = static_cast<int64_t>(v);
    return Status::Ok();
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

template <size_t N>
std::vector<std::string> Names(const char* const (&columns)[N]) {
  return std::vector<std::string>(columns, columns + N);
}

Status FirstError(std::initializer_list<Status> all) {
  for (const Status& s : all) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

std::string UtcTime(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return buf;
}

void WriteTimeseries(std::ostream& out, const std::vector<TimeseriesRow>& rows,
                     int64_t load_start_unix_ms) {
  WriteHeader(out, kTimeseriesColumns);
  for (const TimeseriesRow& r : rows) {
    out << UtcTime(load_start_unix_ms + r.second * 1000) << ',' << r.second << ',' << r.op << ','
        << r.requests << ',' << r.errors << ',' << r.status_200 << ',' << r.status_201 << ','
        << r.status_409 << ',' << r.status_410 << ',' << r.status_4xx_other << ',' << r.status_5xx
        << ',' << r.transport_errors << ',' << F(r.p50_ms, 3) << ',' << F(r.p90_ms, 3) << ','
        << F(r.p99_ms, 3) << ',' << F(r.max_ms, 3) << '\n';
  }
}

void WriteFaults(std::ostream& out, const std::vector<FaultRow>& rows, int64_t load_start_unix_ms) {
  WriteHeader(out, kFaultColumns);
  for (const FaultRow& f : rows) {
    out << UtcTime(load_start_unix_ms + static_cast<int64_t>(std::llround(f.started_s * 1000)))
        << ',' << F(f.planned_s, 3) << ',' << F(f.started_s, 3) << ',' << F(f.ended_s, 3) << ','
        << f.action << ',' << (f.ok ? 1 : 0) << ',' << CsvQuote(f.detail) << '\n';
  }
}

void WriteServerMetrics(std::ostream& out, const ServerMetricsTable& t,
                        int64_t load_start_unix_ms) {
  out << "time,elapsed_s,up";
  for (const std::string& c : t.metrics) out << ',' << c;
  out << '\n';
  for (const ServerMetricsTable::Row& r : t.rows) {
    out << UtcTime(load_start_unix_ms + static_cast<int64_t>(std::llround(r.elapsed_s * 1000)))
        << ',' << F(r.elapsed_s, 3) << ',' << r.up;
    for (double v : r.values) out << ',' << F(v, 6);
    out << '\n';
  }
}

Result<std::vector<TimeseriesRow>> ReadTimeseries(const std::string& path) {
  std::vector<std::string> required = Names(kTimeseriesColumns);
  required.erase(required.begin());  // `time`: folders written before it existed lack it.
  Result<Csv> csv = Csv::Read(path, required);
  if (!csv.ok()) return csv.status();
  std::vector<TimeseriesRow> out;
  for (size_t i = 0; i < csv->size(); ++i) {
    TimeseriesRow r;
    r.op = csv->Text(i, "op");
    Status s = FirstError(
        {csv->Int(i, "second", &r.second), csv->Int(i, "requests", &r.requests),
         csv->Int(i, "errors", &r.errors), csv->Int(i, "status_200", &r.status_200),
         csv->Int(i, "status_201", &r.status_201), csv->Int(i, "status_409", &r.status_409),
         csv->Int(i, "status_410", &r.status_410),
         csv->Int(i, "status_4xx_other", &r.status_4xx_other),
         csv->Int(i, "status_5xx", &r.status_5xx),
         csv->Int(i, "transport_errors", &r.transport_errors), csv->Number(i, "p50_ms", &r.p50_ms),
         csv->Number(i, "p90_ms", &r.p90_ms), csv->Number(i, "p99_ms", &r.p99_ms),
         csv->Number(i, "max_ms", &r.max_ms)});
    if (!s.ok()) return s;
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<FaultRow>> ReadFaults(const std::string& path) {
  Result<Csv> csv = Csv::Read(path, {"planned_s", "started_s", "ended_s", "action"});
  if (!csv.ok()) return csv.status();
  std::vector<FaultRow> out;
  for (size_t i = 0; i < csv->size(); ++i) {
    FaultRow f;
    f.action = csv->Text(i, "action");
    Status s = FirstError({csv->Number(i, "planned_s", &f.planned_s),
                           csv->Number(i, "started_s", &f.started_s),
                           csv->Number(i, "ended_s", &f.ended_s)});
    if (!s.ok()) return s;
    f.ok = !csv->Has("ok") || csv->Text(i, "ok") == "1";
    if (csv->Has("detail")) f.detail = csv->Text(i, "detail");
    out.push_back(std::move(f));
  }
  return out;
}

Result<ServerMetricsTable> ReadServerMetrics(const std::string& path) {
  Result<Csv> csv = Csv::Read(path, {"elapsed_s", "up"});
  if (!csv.ok()) return csv.status();
  ServerMetricsTable t;
  for (const std::string& c : csv->header()) {
    if (c != "time" && c != "elapsed_s" && c != "up") t.metrics.push_back(c);
  }
  for (size_t i = 0; i < csv->size(); ++i) {
    ServerMetricsTable::Row r;
    double up = 0;
    Status s = FirstError({csv->Number(i, "elapsed_s", &r.elapsed_s), csv->Number(i, "up", &up)});
    if (!s.ok()) return s;
    r.up = static_cast<int>(up);
    for (const std::string& m : t.metrics) {
      double v = 0;
      s = csv->Number(i, m, &v);
      if (!s.ok()) return s;
      r.values.push_back(v);
    }
    t.rows.push_back(std::move(r));
  }
  return t;
}

}  // namespace rp::results
