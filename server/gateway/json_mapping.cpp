#include "server/gateway/json_mapping.h"

#include <ctime>

#include "server/gateway/request_json.h"

namespace rp::gateway {

using nlohmann::json;

Result<core::SendRequest> ParseSendBody(const std::string& body) {
  Result<RequestJson> j = RequestJson::Parse(body);
  if (!j.ok()) return j.status();
  core::SendRequest r;
  for (Status s :
       {j->String("order_no", &r.order_no, true), j->String("kind", &r.kind, true),
        j->Int("total_cents", &r.total_cents, true), j->Int("count", &r.count, true),
        j->String("split", &r.split, true), j->String("audience", &r.audience, true),
        j->String("video_id", &r.video_id, true), j->String("greeting", &r.greeting, false),
        j->String("subsidy_token", &r.subsidy_token, false), j->RejectUnknown()}) {
    if (!s.ok()) return s;
  }
  return r;
}

Result<core::PaymentCallback> ParseCallbackBody(const std::string& body) {
  Result<RequestJson> j = RequestJson::Parse(body);
  if (!j.ok()) return j.status();
  core::PaymentCallback cb;
  std::string status;
  for (Status s :
       {j->String("pay_order_no", &cb.pay_order_no, true), j->String("status", &status, true),
        j->Int("amount_cents", &cb.amount_cents, true), j->RejectUnknown()}) {
    if (!s.ok()) return s;
  }
  const auto parsed = ledger::kPaymentStatuses.Parse(status);
  if (!parsed) return Status(Error::kInvalidStatus, "status must be paid or failed");
  cb.status = *parsed;
  if (cb.amount_cents < 1) return Status(Error::kInvalidAmount, "amount_cents must be positive");
  return cb;
}

Status ParseClaimBody(const std::string& body) {
  Result<RequestJson> j = RequestJson::Parse(body, /*allow_empty=*/true);
  if (!j.ok()) return j.status();
  return j->RejectUnknown();
}

json PacketJson(const ledger::PacketRecord& p) {
  json j = {{"packet_id", p.packet_id},
            {"kind", ledger::Name(p.kind)},
            {"status", ledger::Name(p.state)},
            {"total_cents", p.total_cents},
            {"count", p.count},
            {"expires_at", FormatTimeMs(p.expires_at_ms)}};
  if (!p.pay_order_no.empty()) j["pay_order_no"] = p.pay_order_no;  // C2C only.
  if (!p.subsidy_id.empty()) j["subsidy_id"] = p.subsidy_id;        // B2C only.
  return j;
}

json PacketDetailJson(const ledger::PacketRecord& p) {
  return {{"packet_id", p.packet_id},
          {"kind", ledger::Name(p.kind)},
          {"sender_id", p.sender_id},
          {"status", ledger::Name(p.state)},
          {"total_cents", p.total_cents},
          {"count", p.count},
          {"claimed_count", p.claimed_count},
          {"claimed_cents", p.claimed_cents},
          {"remaining_count", p.remaining_count()},
          {"remaining_cents", p.remaining_cents()},
          {"created_at", FormatTimeMs(p.created_at_ms)},
          {"expires_at", FormatTimeMs(p.expires_at_ms)}};
}

static json ClaimBody(const core::ClaimOutcome& c) {
  return {{"claim_id", c.claim.claim_id},
          {"packet_id", c.claim.packet_id},
          {"amount_cents", c.claim.amount_cents},
          {"status", ledger::Name(c.claim.state)},
          {"claimed_at", FormatTimeMs(c.claim.claimed_at_ms)},
          {"repeat", c.repeat}};
}

json ClaimJson(const core::ClaimOutcome& c) {
  json body = ClaimBody(c);
  if (c.degraded) {
    body["degraded"] = true;
    body["degraded_feature"] = base::Name(*c.degraded);
  }
  return body;
}

json ClaimsPageJson(int64_t packet_id, const query::ClaimsPage& page) {
  json claims = json::array();
  for (const ledger::ClaimRecord& c : page.claims) {
    json item = {{"claim_id", c.claim_id},
                 {"user_id", c.user_id},
                 {"amount_cents", c.amount_cents},
                 {"claimed_at", FormatTimeMs(c.claimed_at_ms)}};
    if (page.best_luck_claim_id && *page.best_luck_claim_id == c.claim_id) {
      item["best_luck"] = true;
    }
    claims.push_back(std::move(item));
  }
  json body = {{"packet_id", packet_id}, {"claims", std::move(claims)}};
  body["next_cursor"] = page.next_cursor ? json(std::to_string(*page.next_cursor)) : json(nullptr);
  body["best_luck_claim_id"] =
      page.best_luck_claim_id ? json(*page.best_luck_claim_id) : json(nullptr);
  return body;
}

json PaymentJson(const core::PaymentOutcome& o) {
  json reply = PacketJson(o.packet);
  reply["duplicate"] = o.duplicate;
  reply["refunded_late"] = o.refunded_late;
  return reply;
}

json SubsidyListJson(const core::SubsidyList& list) {
  json items = json::array();
  for (const core::SubsidyItem& x : list.items) {
    json item = {
        {"subsidy_id", x.subsidy_id},     {"round", x.round}, {"amount_cents", x.amount_cents},
        {"expires_at_s", x.expires_at_s}, {"state", x.state}, {"in_ledger", x.in_ledger}};
    if (!x.token.empty()) item["token"] = x.token;  // Ledger-only records carry none.
    if (x.packet_id != 0) item["packet_id"] = x.packet_id;
    items.push_back(std::move(item));
  }
  json body = {{"subsidies", std::move(items)}, {"degraded", list.degraded}};
  if (list.degraded) body["degraded_feature"] = base::Name(base::Feature::kSubsidyDisplay);
  return body;
}

std::string FormatTimeMs(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace rp::gateway
