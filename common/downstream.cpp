#include "common/downstream.h"

namespace rp::downstream {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) {
  return {Error::kInvalidType, what};
}

bool IsOrderNo(const std::string& s) {
  if (s.empty() || s.size() > 160) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Field readers: each fails with a message naming the field.
Status Text(const json& j, const char* key, bool required, std::string* out) {
  if (!j.is_object()) return Bad("the body must be a JSON object");
  auto it = j.find(key);
  if (it == j.end()) return required ? Bad(std::string(key) + " is required") : Status::Ok();
  if (!it->is_string()) return Bad(std::string(key) + " must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status OrderNo(const json& j, const char* key, bool required, std::string* out) {
  Status s = Text(j, key, required, out);
  if (!s.ok()) return s;
  if ((required || !out->empty()) && !IsOrderNo(*out)) {
    return Bad(std::string(key) + " must be 1-160 characters of [A-Za-z0-9_-]");
  }
  return Status::Ok();
}

Status Positive(const json& j, const char* key, int64_t* out) {
  if (!j.is_object()) return Bad("the body must be a JSON object");
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    return Bad(std::string(key) + " must be a positive integer");
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status Flag(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return Bad(std::string(key) + " must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status FirstError(std::initializer_list<Status> all) {
  for (const Status& s : all) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

std::string PayOrderPath(std::string_view no) {
  return std::string(kPayOrders) + "/" + std::string(no);
}
std::string RainGrabPath(std::string_view round) {
  return "/reward/rain/" + std::string(round) + "/grab";
}
std::string UserSubsidiesPath(int64_t user_id) {
  return "/reward/users/" + std::to_string(user_id) + "/subsidies";
}
std::string TccPath(std::string_view subsidy_id, std::string_view step) {
  return "/reward/subsidies/" + std::string(subsidy_id) + "/" + std::string(step);
}
std::string RelationPath(int64_t from_user, int64_t to_user) {
  return std::string(kSocialRelation) + "?from=" + std::to_string(from_user) +
         "&to=" + std::to_string(to_user);
}

json ToJson(const TransferRequest& m) {
  return {{"transfer_no", m.transfer_no}, {"user_id", m.user_id}, {"amount_cents", m.amount_cents}};
}
json ToJson(const RefundRequest& m) {
  json j = {{"refund_no", m.refund_no}, {"amount_cents", m.amount_cents}};
  if (!m.pay_order_no.empty()) j["pay_order_no"] = m.pay_order_no;
  if (!m.subsidy_id.empty()) j["subsidy_id"] = m.subsidy_id;
  return j;
}
json ToJson(const PayOrderRequest& m) {
  return {{"pay_order_no", m.pay_order_no},
          {"amount_cents", m.amount_cents},
          {"payer_id", m.payer_id},
          {"notify_url", m.notify_url}};
}
json ToJson(const PayOrder& m) {
  return {{"pay_order_no", m.pay_order_no},
          {"status", m.status},
          {"amount_cents", m.amount_cents},
          {"payer_id", m.payer_id}};
}
json ToJson(const PaymentCallback& m) {
  return {{"pay_order_no", m.pay_order_no}, {"status", m.status}, {"amount_cents", m.amount_cents}};
}
json ToJson(const GrabRequest& m) {
  return {{"user_id", m.user_id}};
}
json ToJson(const TccRequest& m) {
  return {{"tx_id", m.tx_id}};
}
json ToJson(const Relation& m) {
  return {{"from", m.from}, {"to", m.to}, {"follows", m.follows}, {"friends", m.friends}};
}

Result<TransferRequest> ParseTransferRequest(const json& j) {
  TransferRequest m;
  Status s = FirstError({OrderNo(j, "transfer_no", true, &m.transfer_no),
                         Positive(j, "user_id", &m.user_id),
                         Positive(j, "amount_cents", &m.amount_cents)});
  if (!s.ok()) return s;
  return m;
}

Result<RefundRequest> ParseRefundRequest(const json& j) {
  RefundRequest m;
  Status s = FirstError({OrderNo(j, "refund_no", true, &m.refund_no),
                         Positive(j, "amount_cents", &m.amount_cents),
                         OrderNo(j, "pay_order_no", false, &m.pay_order_no),
                         OrderNo(j, "subsidy_id", false, &m.subsidy_id)});
  if (!s.ok()) return s;
  if (m.pay_order_no.empty() == m.subsidy_id.empty()) {
    return Bad("a refund names exactly one of pay_order_no and subsidy_id");
  }
  return m;
}

Result<PayOrderRequest> ParsePayOrderRequest(const json& j) {
  PayOrderRequest m;
  Status s = FirstError({OrderNo(j, "pay_order_no", true, &m.pay_order_no),
                         Positive(j, "amount_cents", &m.amount_cents),
                         Positive(j, "payer_id", &m.payer_id),
                         Text(j, "notify_url", true, &m.notify_url)});
  if (!s.ok()) return s;
  if (m.pay_order_no.size() > 64) return Bad("pay_order_no must be at most 64 characters");
  return m;
}

Result<PayOrder> ParsePayOrder(const json& j) {
  PayOrder m;
  Status s = FirstError({OrderNo(j, "pay_order_no", true, &m.pay_order_no),
                         Text(j, "status", true, &m.status),
                         Positive(j, "amount_cents", &m.amount_cents)});
  if (!s.ok()) return s;
  if (j.contains("payer_id") && j["payer_id"].is_number_integer()) m.payer_id = j["payer_id"];
  return m;
}

Result<PaymentCallback> ParsePaymentCallback(const json& j) {
  PaymentCallback m;
  Status s = FirstError({Text(j, "pay_order_no", true, &m.pay_order_no),
                         Text(j, "status", true, &m.status),
                         Positive(j, "amount_cents", &m.amount_cents)});
  if (!s.ok()) return s;
  return m;
}

Result<GrabRequest> ParseGrabRequest(const json& j) {
  GrabRequest m;
  Status s = Positive(j, "user_id", &m.user_id);
  if (!s.ok()) return s;
  return m;
}

Result<TccRequest> ParseTccRequest(const json& j) {
  TccRequest m;
  Status s = Text(j, "tx_id", true, &m.tx_id);
  if (!s.ok()) return s;
  return m;
}

Result<Relation> ParseRelation(const json& j) {
  Relation m;
  Status s = FirstError({Flag(j, "follows", &m.follows), Flag(j, "friends", &m.friends)});
  if (!s.ok()) return s;
  m.from = j.value("from", int64_t{0});
  m.to = j.value("to", int64_t{0});
  return m;
}

Result<std::vector<SubsidyEntry>> ParseSubsidyList(const json& j) {
  if (!j.is_object() || !j.contains("subsidies") || !j["subsidies"].is_array()) {
    return Bad("subsidies must be a list");
  }
  std::vector<SubsidyEntry> out;
  for (const json& x : j["subsidies"]) {
    if (!x.is_object()) return Bad("a subsidy must be an object");
    SubsidyEntry e{x.value("subsidy_id", ""),           x.value("round", ""),
                   x.value("amount_cents", int64_t{0}), x.value("token", ""),
                   x.value("expires_at_s", int64_t{0}), x.value("state", "issued")};
    out.push_back(std::move(e));
  }
  return out;
}

int64_t EchoedAmount(const json& reply) {
  if (!reply.is_object()) return -1;
  auto it = reply.find("amount_cents");
  return it != reply.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

// The exports are read with at(): a missing field throws, reported as export_malformed.
Status ParsePayExport(const json& j, conservation::ExternalRecords* out) {
  try {
    for (const json& x : j.at("orders")) {
      out->payments.push_back({x.at("pay_order_no"), x.at("status"), x.at("amount_cents")});
    }
  } catch (const json::exception& e) {
    return {Error::kExportMalformed, std::string("payment export: ") + e.what()};
  }
  return Status::Ok();
}

Status ParseWalletExport(const json& j, conservation::ExternalRecords* out) {
  try {
    for (const json& x : j.at("transfers")) {
      out->transfers.push_back({x.at("transfer_no"), x.at("user_id"), x.at("amount_cents")});
    }
    for (const json& x : j.at("refunds")) {
      out->refunds.push_back({x.at("refund_no"), x.value("pay_order_no", ""), x.at("amount_cents"),
                              x.value("subsidy_id", "")});
    }
  } catch (const json::exception& e) {
    return {Error::kExportMalformed, std::string("wallet export: ") + e.what()};
  }
  return Status::Ok();
}

Status ParseRewardExport(const json& j, conservation::ExternalRecords* out) {
  try {
    out->has_reward = true;
    for (const json& x : j.at("subsidies")) {
      out->subsidies.push_back(
          {x.at("subsidy_id"), x.at("round"), x.at("amount_cents"), x.at("state")});
    }
    for (const json& x : j.at("rounds")) {
      out->rounds.push_back(
          {x.at("round"), x.at("budget_cents"), x.at("issued_cents"), x.at("returned_cents")});
    }
  } catch (const json::exception& e) {
    return {Error::kExportMalformed, std::string("reward export: ") + e.what()};
  }
  return Status::Ok();
}

}  // namespace rp::downstream
