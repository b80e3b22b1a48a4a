// The downstream-service protocol, defined once: the payment service, the wallet, the reward
// service (the B2C rain) and the social graph, as rp-server calls them, rp-mock serves them and
// reconciliation reads their exports. Each endpoint has its path (and the pattern a server
// routes it by) and each message a struct with one JSON encoding and one strict parser.
//
// Every money-moving request carries an order number that the service treats as an
// idempotency key: a retry gets the original result (200), a conflicting reuse a 409.
// Pure functions and plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/conservation.h"
#include "common/status.h"

namespace rp::downstream {

// ---- Paths (and the patterns rp-mock routes them by) ------------------------------------------
inline constexpr const char* kWalletTransfers = "/wallet/transfers";  // POST TransferRequest
inline constexpr const char* kWalletRefunds = "/wallet/refunds";      // POST RefundRequest
inline constexpr const char* kWalletExport = "/wallet/export";        // GET
inline constexpr const char* kPayOrders = "/pay/orders";              // POST PayOrderRequest
inline constexpr const char* kPayOrderPattern = R"(/pay/orders/([A-Za-z0-9_-]{1,64}))";
inline constexpr const char* kPayExport = "/pay/export";  // GET
inline constexpr const char* kRainGrabPattern = R"(/reward/rain/([A-Za-z0-9_-]{1,64})/grab)";
inline constexpr const char* kUserSubsidiesPattern = R"(/reward/users/(\d{1,18})/subsidies)";
inline constexpr const char* kTccPattern =
    R"(/reward/subsidies/([A-Za-z0-9_-]{1,160})/(try|confirm|cancel))";
inline constexpr const char* kRewardExport = "/reward/export";      // GET
inline constexpr const char* kSocialRelation = "/social/relation";  // GET ?from=&to=
// The header carrying a payment callback's signature: hex HMAC-SHA256(payment secret, body).
inline constexpr const char* kSignatureHeader = "X-RP-Signature";

std::string PayOrderPath(std::string_view pay_order_no);                  // GET: PayOrder
std::string RainGrabPath(std::string_view round);                         // POST GrabRequest
std::string UserSubsidiesPath(int64_t user_id);                           // GET: SubsidyList
std::string TccPath(std::string_view subsidy_id, std::string_view step);  // POST TccRequest
std::string RelationPath(int64_t from_user, int64_t to_user);             // GET: Relation

// ---- Wallet ----------------------------------------------------------------------------------
struct TransferRequest {
  std::string transfer_no;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
};
// The refund of a C2C packet goes back to its pay order; a B2C remainder to its subsidy's round.
struct RefundRequest {
  std::string refund_no;
  int64_t amount_cents = 0;
  std::string pay_order_no;  // Exactly one of these two.
  std::string subsidy_id;
};

// ---- Payment ---------------------------------------------------------------------------------
struct PayOrderRequest {
  std::string pay_order_no;
  int64_t amount_cents = 0;
  int64_t payer_id = 0;
  std::string notify_url;  // Where the signed callback goes.
};
struct PayOrder {
  std::string pay_order_no;
  std::string status;  // pending | paid | failed
  int64_t amount_cents = 0;
  int64_t payer_id = 0;
};
// What the payment service posts to notify_url (signed with kSignatureHeader).
struct PaymentCallback {
  std::string pay_order_no;
  std::string status;  // paid | failed
  int64_t amount_cents = 0;
};

// ---- Reward (B2C rain) -----------------------------------------------------------------------
struct GrabRequest {
  int64_t user_id = 0;
};
struct TccRequest {
  std::string tx_id;
};
struct SubsidyEntry {  // One of a user's subsidies as the reward service lists them.
  std::string subsidy_id;
  std::string round;
  int64_t amount_cents = 0;
  std::string token;
  int64_t expires_at_s = 0;
  std::string state;  // issued | frozen | used
};

// ---- Social ----------------------------------------------------------------------------------
struct Relation {
  int64_t from = 0;
  int64_t to = 0;
  bool follows = false;  // from follows to (a fan).
  bool friends = false;  // mutual.
};

// JSON encodings.
nlohmann::json ToJson(const TransferRequest& m);
nlohmann::json ToJson(const RefundRequest& m);
nlohmann::json ToJson(const PayOrderRequest& m);
nlohmann::json ToJson(const PayOrder& m);
nlohmann::json ToJson(const PaymentCallback& m);
nlohmann::json ToJson(const GrabRequest& m);
nlohmann::json ToJson(const TccRequest& m);
nlohmann::json ToJson(const Relation& m);

// Strict parsers: InvalidArgument naming the field when a required one is missing, of the wrong
// type or out of range (ids and amounts positive, order numbers 1..160 of [A-Za-z0-9_-]).
Result<TransferRequest> ParseTransferRequest(const nlohmann::json& j);
Result<RefundRequest> ParseRefundRequest(const nlohmann::json& j);
Result<PayOrderRequest> ParsePayOrderRequest(const nlohmann::json& j);
Result<PayOrder> ParsePayOrder(const nlohmann::json& j);
Result<PaymentCallback> ParsePaymentCallback(const nlohmann::json& j);
Result<GrabRequest> ParseGrabRequest(const nlohmann::json& j);
Result<TccRequest> ParseTccRequest(const nlohmann::json& j);
Result<Relation> ParseRelation(const nlohmann::json& j);
Result<std::vector<SubsidyEntry>> ParseSubsidyList(const nlohmann::json& j);  // {"subsidies":[]}
// The amount a money-moving reply echoes (wallet transfer/refund, pay order); -1 when absent.
int64_t EchoedAmount(const nlohmann::json& reply);

// Exports, for reconciliation: each service's whole record of what it did.
Status ParsePayExport(const nlohmann::json& j, conservation::ExternalRecords* out);
Status ParseWalletExport(const nlohmann::json& j, conservation::ExternalRecords* out);
Status ParseRewardExport(const nlohmann::json& j, conservation::ExternalRecords* out);

}  // namespace rp::downstream
