#include "server/async/task_calls.h"

#include <spdlog/spdlog.h>

#include "common/downstream.h"
#include "server/core/payment.h"
#include "server/ledger/packets.h"

namespace rp::async {
namespace {

using nlohmann::json;

// A 200/201 whose echoed amount matches: the downstream effect is confirmed.
Status Confirmed(const Result<base::ServiceReply>& r, const Task& t) {
  if (!r.ok()) return r.status();
  if (r->status == 200 || r->status == 201) {
    if (downstream::EchoedAmount(r->body) == t.amount_cents) return Status::Ok();
    return Internal("downstream confirmed a different amount for " + t.order_no);
  }
  const std::string code = r->body.is_object() ? r->body.value("/error/code"_json_pointer, "") : "";
  if (r->status == 409) return {Error::kDownstreamConflict, t.order_no + ": " + code};
  return {Error::kDownstreamError, "HTTP " + std::to_string(r->status) + " " + code};
}

}  // namespace

TaskCalls::TaskCalls(const WorkerTargets& targets, ledger::Engine* ledger, const Clock* clock,
                     int64_t late_poll_ms)
    : wallet_(targets.wallet_url, targets.call_deadline_ms, "wallet", targets.breakers),
      payment_(targets.payment_url, targets.call_deadline_ms, "payment", targets.breakers),
      ledger_(ledger),
      clock_(clock),
      late_poll_ms_(late_poll_ms) {}

Status TaskCalls::Execute(const Task& t) {
  json payload = json::parse(t.payload, nullptr, false);
  if (!payload.is_object()) return Internal("task " + t.order_no + " has a bad payload");
  switch (t.kind) {
    case ledger::TaskKind::kTransfer:
      return Transfer(t, payload);
    case ledger::TaskKind::kRefund:
      return Refund(t, payload);
    case ledger::TaskKind::kPayment:
      return Payment(t, payload);
  }
  return Internal("unknown task kind");
}

Status TaskCalls::Transfer(const Task& t, const json& payload) {
  const int64_t user = payload.value("user_id", int64_t{0});
  return Confirmed(
      wallet_.Post(downstream::kWalletTransfers, downstream::ToJson(downstream::TransferRequest{
                                                     t.order_no, user, t.amount_cents})),
      t);
}

Status TaskCalls::Refund(const Task& t, const json& payload) {
  downstream::RefundRequest r{t.order_no, t.amount_cents, payload.value("pay_order_no", ""),
                              payload.value("subsidy_id", "")};
  return Confirmed(wallet_.Post(downstream::kWalletRefunds, downstream::ToJson(r)), t);
}

// Closed unpaid (by the scanner, or a failed payment): the payer may still pay, or may have
// paid with the callback lost and the polls late. Keep polling for a while; a late payment is
// taken and refunded (PaymentTx). Never create the pay order for a closed packet.
Status TaskCalls::Payment(const Task& t, const json& payload) {
  Result<ledger::PacketRecord> packet = Status(Error::kInternal, "not read");
  // Read on the writer: consistent with the callback path that moves the packet.
  Status read = ledger_->RunSync([&](ledger::Tx& tx) {
    packet = ledger::packets::Load(tx, t.ref_id);
    return packet.status();
  });
  if (!read.ok()) return read;
  const bool closed = packet->state == ledger::PacketState::kClosed;
  if (!closed && packet->state != ledger::PacketState::kAwaitingPayment) return Status::Ok();
  if (closed && clock_->NowMs() > packet->expires_at_ms + late_poll_ms_) {
    return Status::Ok();  // Anything paid later is for reconciliation (orphan_payment).
  }
  const std::string pay_order_no = payload.value("pay_order_no", "");
  if (!closed) {
    downstream::PayOrderRequest order{pay_order_no, t.amount_cents,
                                      payload.value("payer_id", int64_t{0}),
                                      payload.value("notify_url", "")};
    Result<base::ServiceReply> created =
        payment_.Post(downstream::kPayOrders, downstream::ToJson(order));
    if (!created.ok()) return created.status();
    if (created->status != 200 && created->status != 201) {
      return {Error::kDownstreamError, "create pay order: HTTP " + std::to_string(created->status)};
    }
  }
  Result<base::ServiceReply> polled = payment_.Get(downstream::PayOrderPath(pay_order_no));
  if (!polled.ok()) return polled.status();
  if (closed && polled->status == 404) return Status::Ok();  // Never created: nothing to pay.
  Result<downstream::PayOrder> order = downstream::ParsePayOrder(polled->body);
  const std::string pay_status = order.ok() ? order->status : "";
  const auto status = ledger::kPaymentStatuses.Parse(pay_status);
  if (!status) return {Error::kPaymentPending, pay_order_no + " is " + pay_status};
  core::PaymentCallback cb{pay_order_no, *status, order->amount_cents};
  core::PaymentOutcome outcome;
  const int64_t now_ms = clock_->NowMs();
  Status applied =
      ledger_->RunSync([&](ledger::Tx& tx) { return core::PaymentTx(tx, cb, now_ms, &outcome); });
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

}  // namespace rp::async
