#include "server/limits/limiter.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/check.h"
#include "server/limits/bucket.h"

namespace rp::limits {

// Monotonic counts of one rule name; shared by successive tables that keep the name.
struct Counts {
  std::atomic<int64_t> admitted{0}, refused{0}, shadow_refused{0}, queued{0};
  std::atomic<int64_t> fallbacks{0}, evicted{0};
};

struct Limiter::RuleState {
  LimitRule rule;
  bool shadow = false;
  std::shared_ptr<Counts> counts;
  std::mutex mu;
  std::optional<TokenBucket> route_bucket;  // per: route, qps rules.
  struct KeyedBucket {
    TokenBucket bucket;
    std::list<int64_t>::iterator lru;
  };
  std::unordered_map<int64_t, KeyedBucket> buckets;  // per: user | packet, qps rules.
  std::list<int64_t> lru;                            // Keys of `buckets`, most recently used first.
  std::unordered_map<int64_t, int64_t> inflight;     // Concurrency rules, by key (0: route).

  size_t keys() {
    std::lock_guard<std::mutex> lock(mu);
    return buckets.size() + inflight.size();
  }
};

struct Limiter::Table {
  LimitsConfig config;
  std::vector<std::shared_ptr<RuleState>> rules;
  std::vector<std::vector<std::shared_ptr<RuleState>>> by_route;
  std::vector<bool> blocks;  // by route: has a global rule.
};

class Permit {
 public:
  ~Permit() {
    for (auto& [state, key] : held_) {
      std::lock_guard<std::mutex> lock(state->mu);
      auto it = state->inflight.find(key);
      RP_CHECK(it != state->inflight.end() && it->second > 0);
      if (--it->second == 0) state->inflight.erase(it);
    }
  }
  void Hold(std::shared_ptr<Limiter::RuleState> state, int64_t key) {
    held_.emplace_back(std::move(state), key);
  }
  bool empty() const { return held_.empty(); }

 private:
  std::vector<std::pair<std::shared_ptr<Limiter::RuleState>, int64_t>> held_;
};

namespace {

// The key a rule counts this request under; nullopt when the rule does not apply to it.
std::optional<int64_t> KeyOf(const LimitRule& rule, const Request& r) {
  if (rule.per == Per::kRoute) return 0;
  const int64_t key = rule.per == Per::kUser ? r.user_id : r.packet_id;
  if (key <= 0) return std::nullopt;
  return key;
}

// Idle buckets looked at per new key, at most: a new key costs O(1) however full the table is.
constexpr int kSweepMax = 16;

// Frees room for one bucket: forgets idle buckets (equal to new ones) from the least recently
// used end, then, if the table is still full, the least recently used bucket, counted as an
// eviction: a key sprayed by one client pushes out keys nobody used for longest, never the busy
// ones. mu held.
void MakeRoom(Limiter::RuleState& s, size_t keys_max, int64_t now_ms) {
  if (s.buckets.size() < keys_max) return;
  for (int swept = 0; swept < kSweepMax && !s.lru.empty(); ++swept) {
    auto it = s.buckets.find(s.lru.back());
    RP_CHECK(it != s.buckets.end());
    if (!it->second.bucket.Idle(now_ms)) break;
    s.buckets.erase(it);
    s.lru.pop_back();
  }
  if (s.buckets.size() >= keys_max) {
    s.buckets.erase(s.lru.back());
    s.lru.pop_back();
    s.counts->evicted.fetch_add(1, std::memory_order_relaxed);
  }
}

Take TakeLocal(Limiter::RuleState& s, int64_t key, size_t keys_max, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.rule.per == Per::kRoute) {
    if (!s.route_bucket) s.route_bucket.emplace(s.rule, now_ms);
    return s.route_bucket->TryTake(now_ms);
  }
  auto it = s.buckets.find(key);
  if (it == s.buckets.end()) {
    MakeRoom(s, keys_max, now_ms);
    s.lru.push_front(key);
    it = s.buckets
             .emplace(key,
                      Limiter::RuleState::KeyedBucket{TokenBucket(s.rule, now_ms), s.lru.begin()})
             .first;
  } else {
    s.lru.splice(s.lru.begin(), s.lru, it->second.lru);  // Most recently used now.
  }
  return it->second.bucket.TryTake(now_ms);
}

}  // namespace

Limiter::Limiter(std::vector<std::string> routes, const Clock* clock, GlobalBuckets* global,
                 size_t keys_max)
    : routes_(std::move(routes)), clock_(clock), global_(global), keys_max_(keys_max) {
  RP_CHECK(clock_ != nullptr && keys_max_ > 0);
  Load({});
}

Limiter::~Limiter() = default;

std::shared_ptr<const Limiter::Table> Limiter::table() const {
  return table_.load(std::memory_order_acquire);
}

void Limiter::Load(LimitsConfig config) {
  RP_CHECK(config.rules.size() <= kRulesMax);
  std::map<std::string, std::shared_ptr<Counts>> kept;
  if (std::shared_ptr<const Table> old = table()) {
    for (const auto& s : old->rules) kept[s->rule.name] = s->counts;
  }
  auto t = std::make_shared<Table>();
  t->by_route.resize(routes_.size());
  t->blocks.assign(routes_.size(), false);
  for (const LimitRule& rule : config.rules) {
    auto s = std::make_shared<RuleState>();
    s->rule = rule;
    s->shadow = rule.shadow || config.shadow;
    auto k = kept.find(rule.name);
    s->counts = k != kept.end() ? k->second : std::make_shared<Counts>();
    for (size_t i = 0; i < routes_.size(); ++i) {
      if (routes_[i].empty() || (rule.route != "*" && rule.route != routes_[i])) continue;
      t->by_route[i].push_back(s);
      if (rule.scope == Scope::kGlobal && global_ != nullptr) t->blocks[i] = true;
    }
    t->rules.push_back(std::move(s));
  }
  t->config = std::move(config);
  table_.store(std::move(t), std::memory_order_release);
}

LimitsConfig Limiter::config() const {
  return table()->config;
}

bool Limiter::Limits(int route) const {
  std::shared_ptr<const Table> t = table();
  return route >= 0 && static_cast<size_t>(route) < t->by_route.size() &&
         !t->by_route[route].empty();
}

bool Limiter::Blocks(int route) const {
  std::shared_ptr<const Table> t = table();
  return route >= 0 && static_cast<size_t>(route) < t->blocks.size() && t->blocks[route];
}

Decision Limiter::Admit(const Request& request, bool may_block) {
  Decision d;
  std::shared_ptr<const Table> t = table();
  if (request.route < 0 || static_cast<size_t>(request.route) >= t->by_route.size()) return d;
  const std::vector<std::shared_ptr<RuleState>>& rules = t->by_route[request.route];
  if (rules.empty()) return d;
  const int64_t now_ms = clock_->NowMs();
  auto permit = std::make_shared<Permit>();
  for (const std::shared_ptr<RuleState>& s : rules) {
    const std::optional<int64_t> key = KeyOf(s->rule, request);
    if (!key) continue;
    Take take;
    if (s->rule.concurrency > 0) {
      std::lock_guard<std::mutex> lock(s->mu);
      int64_t& n = s->inflight[*key];
      take.admitted = n < s->rule.concurrency;
      take.retry_after_ms = 1000;
      if (take.admitted || s->shadow) {
        ++n;  // Shadow requests still count as in flight.
        permit->Hold(s, *key);
      } else if (n == 0) {
        s->inflight.erase(*key);
      }
    } else if (s->rule.scope == Scope::kGlobal && global_ != nullptr && may_block) {
      const std::string bucket =
          "rp:limit:" + s->rule.name + ":" + (*key == 0 ? "all" : std::to_string(*key));
      Result<int64_t> wait = global_->Take(bucket, s->rule.qps, s->rule.burst, now_ms);
      if (wait.ok()) {
        take.admitted = *wait == 0;
        take.retry_after_ms = *wait;
      } else {
        s->counts->fallbacks.fetch_add(1, std::memory_order_relaxed);
        take = TakeLocal(*s, *key, keys_max_, now_ms);
      }
    } else {
      if (s->rule.scope == Scope::kGlobal && global_ != nullptr) {
        s->counts->fallbacks.fetch_add(1, std::memory_order_relaxed);
      }
      take = TakeLocal(*s, *key, keys_max_, now_ms);
    }
    if (!take.admitted && s->shadow) {
      s->counts->shadow_refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!take.admitted) {
      s->counts->refused.fetch_add(1, std::memory_order_relaxed);
      d.kind = Decision::Kind::kRefuse;
      d.retry_after_s = std::max<int64_t>(1, (take.retry_after_ms + 999) / 1000);
      d.rule = s->rule.name;
      d.message = s->rule.message.empty() ? std::string(kDefaultMessage) : s->rule.message;
      return d;  // The permit's destructor gives back slots taken by earlier rules.
    }
    s->counts->admitted.fetch_add(1, std::memory_order_relaxed);
    if (take.delay_ms > 0 && !s->shadow) {
      s->counts->queued.fetch_add(1, std::memory_order_relaxed);
      d.delay_ms = std::max(d.delay_ms, take.delay_ms);
    }
  }
  if (d.delay_ms > 0) d.kind = Decision::Kind::kDelay;
  if (!permit->empty()) d.permit = std::move(permit);
  return d;
}

}  // namespace rp::limits

namespace rp::limits {

void Limiter::RegisterMetrics(metrics::Hub& hub) {
  hub.AddCollector([this](metrics::Writer& w) {
    std::shared_ptr<const Table> t = table();
    for (const auto& s : t->rules) {
      const Counts& c = *s->counts;
      const std::string& rule = s->rule.name;
      w.Counter("rp_limit_admitted_total", "Requests a rate-limit rule let through",
                static_cast<double>(c.admitted.load()), {{"rule", rule}});
      w.Counter("rp_limit_refused_total", "Requests a rate-limit rule refused (429)",
                static_cast<double>(c.refused.load()), {{"rule", rule}});
      w.Counter("rp_limit_shadow_refused_total",
                "Requests a shadow rule would have refused (and let through)",
                static_cast<double>(c.shadow_refused.load()), {{"rule", rule}});
      w.Counter("rp_limit_queued_total", "Admitted requests a queueing rule made wait",
                static_cast<double>(c.queued.load()), {{"rule", rule}});
      w.Counter("rp_limit_global_fallbacks_total",
                "Global-rule decisions made by the local bucket because Redis did not answer",
                static_cast<double>(c.fallbacks.load()), {{"rule", rule}});
      w.Counter("rp_limit_keys_evicted_total",
                "Per-user or per-packet buckets forgotten while still in use (keys_max reached)",
                static_cast<double>(c.evicted.load()), {{"rule", rule}});
      w.Gauge("rp_limit_keys", "Keys (users, packets) a rule holds state for",
              static_cast<double>(s->keys()), {{"rule", rule}});
    }
  });
}

}  // namespace rp::limits
