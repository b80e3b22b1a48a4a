#include "server/async/async_service.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/check.h"
#include "server/base/service_client.h"
#include "server/core/ledger_tx.h"
#include "server/core/payment.h"
#include "server/core/state_machine.h"

namespace rp::async {

using nlohmann::json;

// The downstream clients of one worker thread.
class Calls {
 public:
  explicit Calls(const AsyncOptions& o)
      : wallet(o.wallet_url, o.call_deadline_ms), payment(o.payment_url, o.call_deadline_ms) {}
  base::ServiceClient wallet;
  base::ServiceClient payment;
};

namespace {

// A 200/201 whose echoed amount matches: the downstream effect is confirmed.
Status Confirmed(const Result<base::ServiceReply>& r, const Task& t) {
  if (!r.ok()) return r.status();
  if (r->status == 200 || r->status == 201) {
    if (r->body.is_object() && r->body.value("amount_cents", int64_t{-1}) == t.amount_cents) {
      return Status::Ok();
    }
    return Internal("downstream confirmed a different amount for " + t.order_no);
  }
  std::string code = r->body.is_object() ? r->body.value("/error/code"_json_pointer, "") : "";
  Status s = Unavailable("downstream_error", "HTTP " + std::to_string(r->status) + " " + code);
  if (r->status == 409) s = Conflict("downstream_conflict", t.order_no + ": " + code);
  return s;
}

// The packet's status for a payment task, read on the writer (consistent with the callback path).
Result<core::PacketRow> PacketOf(base::LedgerWriter* writer, int64_t packet_id) {
  core::PacketRow packet;
  Status s = writer->RunSync([&](sql::Db& db) {
    Result<core::PacketRow> p = core::LoadPacket(db, packet_id);
    if (!p.ok()) return p.status();
    packet = std::move(p.value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return packet;
}

}  // namespace

AsyncService::AsyncService(TaskQueue* queue, base::LedgerWriter* writer, const Clock* clock,
                           AsyncOptions options)
    : queue_(queue),
      writer_(writer),
      clock_(clock),
      options_(std::move(options)),
      rng_(options_.seed) {
  RP_CHECK(options_.workers >= 1 && options_.lease_batch_max >= 1 && options_.retry_base_ms >= 1);
}

AsyncService::~AsyncService() {
  Stop();
}

void AsyncService::Start() {
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  scanner_ = std::make_unique<Periodic>([this] {
    Status s = ScanStuck();
    if (!s.ok()) spdlog::warn("stuck scan failed: {}", s.ToString());
    return options_.stuck_scan_interval_ms;
  });
  scanner_->Start(options_.stuck_scan_interval_ms);
}

void AsyncService::Stop() {
  stopping_ = true;
  queue_->Notify();
  if (scanner_) scanner_->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

AsyncStats AsyncService::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

int64_t AsyncService::Backoff(int64_t attempts) {
  int64_t shift = std::min<int64_t>(attempts - 1, 20);
  int64_t delay = std::min(options_.retry_max_ms, options_.retry_base_ms << shift);
  std::lock_guard<std::mutex> lock(mu_);
  // Full jitter on the upper half: spreads retries of tasks that failed together.
  return delay / 2 + std::uniform_int_distribution<int64_t>(0, delay / 2)(rng_);
}

void AsyncService::WorkerLoop(int index) {
  Calls calls(options_);
  while (!stopping_) {
    Result<std::vector<Task>> tasks = queue_->Lease(options_.lease_batch_max, options_.lease_ms);
    if (!tasks.ok() || tasks->empty()) {
      if (!tasks.ok())
        spdlog::warn("worker {}: lease failed: {}", index, tasks.status().ToString());
      queue_->WaitForWork(options_.idle_poll_ms);
      continue;
    }
    for (const Task& t : *tasks) {
      if (stopping_) break;  // Leased tasks reappear after the lease; nothing is lost.
      Status s = Execute(t, calls);
      const bool done = s.ok();
      if (done) {
        s = queue_->Complete(t);
      } else {
        const bool poll = s.error() == "payment_pending";
        const int64_t delay = poll ? options_.payment_poll_ms : Backoff(t.attempts);
        const int64_t failed_after =
            t.kind == "payment" ? INT64_MAX : options_.failed_after_attempts;
        if (!poll)
          spdlog::info("{} {} attempt {} failed: {}", t.kind, t.order_no, t.attempts, s.ToString());
        s = queue_->Retry(t, clock_->NowMs() + delay, s.ToString(), failed_after);
      }
      if (!s.ok()) spdlog::warn("task {} bookkeeping failed: {}", t.order_no, s.ToString());
      std::lock_guard<std::mutex> lock(mu_);
      ++(done ? stats_.completed : stats_.retried)[t.kind];
    }
  }
}

Status AsyncService::Execute(const Task& t, Calls& calls) {
  json payload = json::parse(t.payload, nullptr, false);
  if (!payload.is_object()) return Internal("task " + t.order_no + " has a bad payload");
  if (t.kind == "transfer") {
    return Confirmed(calls.wallet.Post("/wallet/transfers", {{"transfer_no", t.order_no},
                                                             {"user_id", payload["user_id"]},
                                                             {"amount_cents", t.amount_cents}}),
                     t);
  }
  if (t.kind == "refund") {
    json body = {{"refund_no", t.order_no}, {"amount_cents", t.amount_cents}};
    for (const char* ref : {"pay_order_no", "subsidy_id"}) {
      if (payload.contains(ref)) body[ref] = payload[ref];
    }
    return Confirmed(calls.wallet.Post("/wallet/refunds", body), t);
  }
  RP_CHECK(t.kind == "payment");
  Result<core::PacketRow> packet = PacketOf(writer_, t.ref_id);
  if (!packet.ok()) return packet.status();
  // Closed unpaid (by the scanner, or a failed payment): the payer may still pay, or may have
  // paid with the callback lost and the polls late. Keep polling for a while; a late payment
  // is taken and refunded (PaymentTx). Never create the pay order for a closed packet.
  const bool closed = packet->status == core::packet_state::kClosed;
  if (!closed && packet->status != core::packet_state::kAwaitingPayment) return Status::Ok();
  if (closed && clock_->NowMs() > packet->expires_at_ms + options_.payment_late_poll_ms) {
    return Status::Ok();  // Anything paid later is for reconciliation (orphan_payment).
  }
  const std::string pay_order_no = payload["pay_order_no"];
  if (!closed) {
    Result<base::ServiceReply> created =
        calls.payment.Post("/pay/orders", {{"pay_order_no", pay_order_no},
                                           {"amount_cents", t.amount_cents},
                                           {"payer_id", payload["payer_id"]},
                                           {"notify_url", payload["notify_url"]}});
    if (!created.ok()) return created.status();
    if (created->status != 200 && created->status != 201) {
      return Unavailable("downstream_error",
                         "create pay order: HTTP " + std::to_string(created->status));
    }
  }
  Result<base::ServiceReply> polled = calls.payment.Get("/pay/orders/" + pay_order_no);
  if (!polled.ok()) return polled.status();
  if (closed && polled->status == 404) return Status::Ok();  // Never created: nothing to pay.
  const std::string pay_status = polled->body.is_object() ? polled->body.value("status", "") : "";
  if (pay_status != "paid" && pay_status != "failed") {
    return Unavailable("payment_pending", pay_order_no + " is " + pay_status);
  }
  core::PaymentCallback cb{pay_order_no, pay_status,
                           polled->body.value("amount_cents", int64_t{0})};
  core::PaymentOutcome outcome;
  const int64_t now_ms = clock_->NowMs();
  Status applied =
      writer_->RunSync([&](sql::Db& db) { return core::PaymentTx(db, cb, now_ms, &outcome); });
  if (applied.ok()) {
    spdlog::info("payment {} {} by polling", pay_order_no,
                 outcome.duplicate       ? "seen"
                 : outcome.refunded_late ? "paid late, refunded"
                                         : "applied");
    return Status::Ok();
  }
  // A payment the ledger refuses (amount mismatch, packet closed) is for reconciliation.
  spdlog::warn("payment {} polled as {} but refused: {}", pay_order_no, pay_status,
               applied.ToString());
  return applied.code() == Code::kConflict ? Status::Ok() : applied;
}

Status AsyncService::ScanStuck() {
  const int64_t now_ms = clock_->NowMs();
  std::map<std::string, int64_t> stuck;
  int64_t oldest_ms = 0;
  Status s = writer_->RunSync([&](sql::Db& db) {
    stuck.clear();
    sql::Stmt& q = db.Prepare(
        "SELECT kind, COUNT(*), MIN(created_at_ms) FROM outbox WHERE status = 'pending' "
        "AND created_at_ms <= ? GROUP BY kind");
    q.Bind(1, now_ms - options_.stuck_after_ms);
    while (q.Step()) stuck[q.Text(0)] = q.Int(1);
    if (!q.status().ok()) return q.status();
    sql::Stmt& lag = db.Prepare("SELECT MIN(created_at_ms) FROM outbox WHERE status = 'pending'");
    if (lag.Step() && !lag.IsNull(0)) oldest_ms = now_ms - lag.Int(0);
    lag.Reset();
    // Re-drive: stuck tasks are tried again now instead of at their backed-off time.
    sql::Stmt& up = db.Prepare(
        "UPDATE outbox SET next_attempt_ms = ? WHERE status = 'pending' AND created_at_ms <= ? "
        "AND next_attempt_ms > ?");
    up.Bind(1, now_ms).Bind(2, now_ms - options_.stuck_after_ms).Bind(3, now_ms);
    up.Step();
    return up.status();
  });
  if (!s.ok()) return s;
  for (const auto& [kind, n] : stuck) {
    spdlog::warn("stuck_orders: {} {} task(s) pending for over {} ms; re-driven", n, kind,
                 options_.stuck_after_ms);
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.stuck = stuck;
  stats_.oldest_pending_ms = oldest_ms;
  return Status::Ok();
}

}  // namespace rp::async
