#include "server/async/stream_queue.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "server/ledger/outbox.h"

namespace rp::async {
namespace {

constexpr const char* kGroup = "rp-workers";

std::map<std::string, std::string> ToFields(const Task& t) {
  return {{"task_id", std::to_string(t.task_id)},
          {"kind", std::string(ledger::Name(t.kind))},
          {"order_no", t.order_no},
          {"ref_id", std::to_string(t.ref_id)},
          {"amount_cents", std::to_string(t.amount_cents)},
          {"payload", t.payload},
          // The attempt this delivery is (the row counts the attempts made so far).
          {"attempts", std::to_string(t.attempts + 1)},
          {"created_at_ms", std::to_string(t.created_at_ms)}};
}

int64_t IntField(const base::StreamEntry& e, const char* name) {
  auto it = e.fields.find(name);
  if (it == e.fields.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

// An entry we cannot read is acked away: its outbox row is still pending, and the relay will
// publish it again after republish_after_ms, so nothing is lost.
bool FromEntry(const base::StreamEntry& e, Task* t) {
  t->task_id = IntField(e, "task_id");
  auto kind = e.fields.find("kind");
  auto order = e.fields.find("order_no");
  if (t->task_id <= 0 || kind == e.fields.end() || order == e.fields.end()) return false;
  std::optional<ledger::TaskKind> k = ledger::kTaskKinds.Parse(kind->second);
  if (!k) return false;
  t->kind = *k;
  t->order_no = order->second;
  t->ref_id = IntField(e, "ref_id");
  t->amount_cents = IntField(e, "amount_cents");
  auto payload = e.fields.find("payload");
  t->payload = payload == e.fields.end() ? "{}" : payload->second;
  t->attempts = IntField(e, "attempts");
  t->created_at_ms = IntField(e, "created_at_ms");
  t->queue_ref = e.id;
  return true;
}

}  // namespace

StreamQueue::StreamQueue(ledger::Engine* ledger, base::RedisPool* redis, const Clock* clock,
                         StreamQueueOptions options)
    : ledger_(ledger),
      clock_(clock),
      options_(std::move(options)),
      outbox_(ledger, clock),
      stream_(redis, options_.key, kGroup) {}

StreamQueue::~StreamQueue() {
  Stop();
}

void StreamQueue::Start() {
  relay_ = std::make_unique<Periodic>("rp-stream-relay", [this] {
    Result<int64_t> n = RelayOnce();
    if (n.ok() && *n >= options_.relay.relay_batch_max) return int64_t{0};
    return options_.relay.relay_interval_ms;
  });
  relay_->Start(0);
}

void StreamQueue::Stop() {
  if (relay_) relay_->Stop();
}

Result<int64_t> StreamQueue::RelayOnce() {
  const int64_t now_ms = clock_->NowMs();
  std::vector<Task> due;
  Status s = ledger_->Read([&](ledger::ReadTx& tx) {
    // Only the stream's lane: the other one leases its tasks from the outbox.
    Result<std::vector<Task>> rows =
        ledger::outbox::DueForRelay(tx, now_ms, now_ms - options_.relay.republish_after_ms,
                                    options_.relay.relay_batch_max, options_.lane);
    if (!rows.ok()) return rows.status();
    due = std::move(rows.value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::vector<const Task*> published;
  for (const Task& t : due) {
    Result<bool> added = stream_.AddBounded(ToFields(t), options_.relay.stream_backlog_max);
    if (!added.ok()) {
      ++redis_errors_;
      break;  // Redis is down: these stay unrelayed; the fallback lease serves them meanwhile.
    }
    if (!*added) break;  // Backlog full: wait for the workers.
    published.push_back(&t);
  }
  if (!published.empty()) {
    s = ledger_->RunSync([&](ledger::Tx& tx) {
      // Only rows no worker retried meanwhile: a retry (attempts moved) already acked the entry
      // we published and reset the row for the relay; marking it would strand it until
      // republish_after_ms.
      for (const Task* t : published) {
        Status st = ledger::outbox::MarkRelayed(tx, t->task_id, t->attempts, now_ms);
        if (!st.ok()) return st;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;  // Published but not marked: republished later, harmlessly.
    relayed_ += static_cast<int64_t>(published.size());
    Notify();
  }
  Result<int64_t> backlog = stream_.Length();
  Result<int64_t> lag = stream_.OldestAgeMs();
  if (backlog.ok() && lag.ok()) {
    backlog_ = *backlog;
    lag_ms_ = *lag;
  }
  return static_cast<int64_t>(published.size());
}

Result<std::vector<Task>> StreamQueue::Lease(int max, int64_t lease_ms, ledger::TaskLane lane) {
  if (options_.lane != ledger::TaskLane::kAll && lane != options_.lane) {
    return outbox_.Lease(max, lease_ms, lane);
  }
  Result<std::vector<base::StreamEntry>> entries =
      stream_.Reclaim(options_.consumer, lease_ms, max);
  if (entries.ok() && entries->empty()) entries = stream_.Read(options_.consumer, max);
  if (!entries.ok()) {
    ++redis_errors_;
    ++fallback_leases_;
    return outbox_.Lease(max, lease_ms, options_.lane);
  }
  std::vector<Task> tasks;
  std::vector<std::string> unreadable;
  for (const base::StreamEntry& e : *entries) {
    Task t;
    if (FromEntry(e, &t)) {
      tasks.push_back(std::move(t));
    } else {
      unreadable.push_back(e.id);
    }
  }
  if (!unreadable.empty()) {
    spdlog::warn("task stream: {} unreadable entries dropped (their outbox rows remain)",
                 unreadable.size());
    (void)stream_.Ack(unreadable);  // Not acked: read and dropped again; the rows stay.
  }
  return tasks;
}

void StreamQueue::Return(const std::vector<Task>& tasks) {
  std::vector<Task> leased_from_outbox;
  for (const Task& t : tasks) {
    if (t.queue_ref.empty()) leased_from_outbox.push_back(t);
  }
  outbox_.Return(leased_from_outbox);
}

void StreamQueue::Release(const Task& task) {
  if (!task.queue_ref.empty() && !stream_.Ack({task.queue_ref}).ok()) ++redis_errors_;
}

// The relay and the workers meet on the outbox queue's wake-up signal.
void StreamQueue::WaitForWork(int64_t timeout_ms) {
  outbox_.WaitForWork(timeout_ms);
}

void StreamQueue::Notify() {
  outbox_.Notify();
}

void StreamQueue::RegisterMetrics(metrics::Hub& hub) {
  hub.AddCollector([this](metrics::Writer& w) {
    const StreamQueueStats q = Stats();
    base::WriteStreamMetrics(w, "tasks", {q.backlog, q.lag_ms, q.relayed, q.fallback_leases});
  });
}

StreamQueueStats StreamQueue::Stats() const {
  return {relayed_.load(), fallback_leases_.load(), redis_errors_.load(), backlog_.load(),
          lag_ms_.load()};
}

}  // namespace rp::async
