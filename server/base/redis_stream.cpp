#include "server/base/redis_stream.h"

#include <algorithm>

namespace rp::base {
namespace {

// XADD only while the backlog is below the bound, atomically (a check then an XADD from two
// threads could both pass).
constexpr const char* kAddBounded = R"lua(
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local args = {KEYS[1], '*'}
for i = 2, #ARGV do args[#args + 1] = ARGV[i] end
redis.call('XADD', unpack(args))
return 1
)lua";

// [[id, [k, v, k, v...]], ...] → entries. Deleted-but-pending entries come back with a nil body
// from XAUTOCLAIM on some versions; they are skipped (their ids are acked by the caller's flow).
std::vector<StreamEntry> ParseEntries(const RedisValue& list) {
  std::vector<StreamEntry> out;
  for (const RedisValue& e : list.elements) {
    if (e.elements.size() < 2 || e.elements[1].type != RedisValue::Type::kArray) continue;
    StreamEntry entry;
    entry.id = e.elements[0].str;
    const auto& kv = e.elements[1].elements;
    for (size_t i = 0; i + 1 < kv.size(); i += 2) entry.fields[kv[i].str] = kv[i + 1].str;
    out.push_back(std::move(entry));
  }
  return out;
}

bool IsNoGroup(const Status& s) {
  return s.message().find("NOGROUP") != std::string::npos;
}

}  // namespace

int64_t StreamIdMs(const std::string& id) {
  int64_t ms = 0;
  for (char c : id) {
    if (c < '0' || c > '9') break;
    ms = ms * 10 + (c - '0');
  }
  return ms;
}

Status RedisStream::EnsureGroup() {
  // From id 0: entries added before the group existed are still delivered.
  Result<RedisValue> r = redis_->Query({"XGROUP", "CREATE", key_, group_, "0", "MKSTREAM"});
  if (!r.ok() && r.status().message().find("BUSYGROUP") == std::string::npos) return r.status();
  return Status::Ok();
}

Result<bool> RedisStream::AddBounded(const std::map<std::string, std::string>& fields,
                                     int64_t max_len) {
  std::vector<std::string> args = {std::to_string(max_len)};
  for (const auto& [k, v] : fields) {
    args.push_back(k);
    args.push_back(v);
  }
  Result<int64_t> added = redis_->EvalInt(kAddBounded, {key_}, args);
  if (!added.ok()) return added.status();
  return *added == 1;
}

Result<std::vector<StreamEntry>> RedisStream::Read(const std::string& consumer, int count) {
  const std::vector<std::string> argv = {"XREADGROUP", "GROUP", group_,
                                         consumer,     "COUNT", std::to_string(count),
                                         "STREAMS",    key_,    ">"};
  Result<RedisValue> r = redis_->Query(argv);
  if (!r.ok() && IsNoGroup(r.status())) {
    Status created = EnsureGroup();
    if (!created.ok()) return created;
    r = redis_->Query(argv);
  }
  if (!r.ok()) return r.status();
  // Nil: nothing new. Otherwise [[key, entries]].
  if (r->type != RedisValue::Type::kArray || r->elements.empty()) {
    return std::vector<StreamEntry>{};
  }
  const RedisValue& stream = r->elements[0];
  if (stream.elements.size() < 2) return std::vector<StreamEntry>{};
  return ParseEntries(stream.elements[1]);
}

Result<std::vector<StreamEntry>> RedisStream::Reclaim(const std::string& consumer,
                                                      int64_t min_idle_ms, int count) {
  Result<RedisValue> r =
      redis_->Query({"XAUTOCLAIM", key_, group_, consumer, std::to_string(min_idle_ms), "0-0",
                     "COUNT", std::to_string(count)});
  if (!r.ok() && IsNoGroup(r.status())) return std::vector<StreamEntry>{};  // Nothing pending.
  if (!r.ok()) return r.status();
  // [next-cursor, entries, (deleted ids, Redis ≥ 7)].
  if (r->elements.size() < 2) return std::vector<StreamEntry>{};
  return ParseEntries(r->elements[1]);
}

Status RedisStream::Ack(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::Ok();
  std::vector<std::string> ack = {"XACK", key_, group_};
  std::vector<std::string> del = {"XDEL", key_};
  ack.insert(ack.end(), ids.begin(), ids.end());
  del.insert(del.end(), ids.begin(), ids.end());
  Result<RedisValue> a = redis_->Query(ack);
  if (!a.ok()) return a.status();
  Result<RedisValue> d = redis_->Query(del);
  return d.ok() ? Status::Ok() : d.status();
}

Result<int64_t> RedisStream::Length() {
  Result<RedisValue> r = redis_->Query({"XLEN", key_});
  if (!r.ok()) return r.status();
  return r->integer;
}

Result<int64_t> RedisStream::OldestAgeMs() {
  Result<RedisValue> r = redis_->Query({"XRANGE", key_, "-", "+", "COUNT", "1"});
  if (!r.ok()) return r.status();
  if (r->elements.empty()) return int64_t{0};
  Result<RedisValue> time = redis_->Query({"TIME"});  // [seconds, microseconds]
  if (!time.ok()) return time.status();
  if (time->elements.size() < 2) return Internal("redis TIME: unexpected reply");
  const int64_t now_ms =
      std::stoll(time->elements[0].str) * 1000 + std::stoll(time->elements[1].str) / 1000;
  const int64_t ms =
      StreamIdMs(r->elements[0].elements.empty() ? "" : r->elements[0].elements[0].str);
  return std::max<int64_t>(0, now_ms - ms);
}

void WriteStreamMetrics(metrics::Writer& w, const std::string& name, const StreamFigures& f) {
  const metrics::Labels l{{"stream", name}};
  w.Gauge("rp_stream_backlog", "Redis stream entries not yet acknowledged, by stream",
          static_cast<double>(f.backlog), l);
  w.Gauge("rp_stream_lag_seconds", "Age of the oldest unacknowledged stream entry",
          static_cast<double>(f.lag_ms) / 1000.0, l);
  w.Counter("rp_stream_published_total", "Entries published to a Redis stream, by stream",
            static_cast<double>(f.published), l);
  w.Counter("rp_stream_fallbacks_total", "Work done around a Redis stream because Redis failed",
            static_cast<double>(f.fallbacks), l);
}

}  // namespace rp::base
