#include "common/api/api_client.h"

#include <httplib.h>

#include <ctime>

#include "common/crypto.h"
#include "common/http_load.h"

namespace rp::api {

using nlohmann::json;

json ToJson(const SendBody& b) {
  json j = {{"order_no", b.order_no}, {"kind", b.kind},   {"total_cents", b.total_cents},
            {"count", b.count},       {"split", b.split}, {"audience", b.audience},
            {"video_id", b.video_id}};
  if (!b.greeting.empty()) j["greeting"] = b.greeting;
  if (!b.subsidy_token.empty()) j["subsidy_token"] = b.subsidy_token;
  return j;
}

std::string Bearer(const Credentials& c, int64_t user_id) {
  const int64_t expires_at_s = static_cast<int64_t>(std::time(nullptr)) + c.token_ttl_s;
  return "Bearer " + (user_id > 0 ? auth::MintToken(c.auth_secret, user_id, expires_at_s)
                                  : auth::MintAdminToken(c.auth_secret, expires_at_s));
}

Request WithToken(const Credentials& c, const std::string& method, const std::string& path,
                  int64_t user_id, const std::string& body) {
  return {method, path, {{"Authorization", Bearer(c, user_id)}}, body};
}

Request Healthz() {
  return {"GET", "/healthz", {}, ""};
}
Request Metrics() {
  return {"GET", "/metrics", {}, ""};
}
Request SendPacket(const Credentials& c, int64_t user_id, const SendBody& body) {
  return WithToken(c, "POST", "/v1/packets", user_id, ToJson(body).dump());
}
Request Claim(const Credentials& c, int64_t packet_id, int64_t user_id) {
  return WithToken(c, "POST", "/v1/packets/" + std::to_string(packet_id) + "/claims", user_id);
}
Request GetPacket(const Credentials& c, int64_t packet_id, int64_t user_id) {
  return WithToken(c, "GET", "/v1/packets/" + std::to_string(packet_id), user_id);
}
Request ListClaims(const Credentials& c, int64_t packet_id, int64_t user_id, int limit,
                   const std::string& cursor) {
  std::string path =
      "/v1/packets/" + std::to_string(packet_id) + "/claims?limit=" + std::to_string(limit);
  if (!cursor.empty()) path += "&cursor=" + cursor;
  return WithToken(c, "GET", path, user_id);
}
Request PaymentCallback(const Credentials& c, const std::string& pay_order_no,
                        const std::string& status, int64_t amount_cents) {
  const std::string body =
      json{{"pay_order_no", pay_order_no}, {"status", status}, {"amount_cents", amount_cents}}
          .dump();
  return {"POST",
          "/v1/payments/callback",
          {{"X-RP-Signature", crypto::HmacSha256Hex(c.payment_secret, body)}},
          body};
}
Request Grab(const Credentials& c, const std::string& round, int64_t user_id) {
  return WithToken(c, "POST", "/v1/rain/" + round + "/grab", user_id);
}
Request Subsidies(const Credentials& c, int64_t user_id) {
  return WithToken(c, "GET", "/v1/subsidies", user_id);
}
Request AdminRecon(const Credentials& c, int64_t since_s) {
  std::string path = "/admin/recon";
  if (since_s > 0) path += "?since=" + std::to_string(since_s);
  return WithToken(c, "GET", path, 0);
}

std::string Render(const Request& r) {
  return load::RenderRequest(r.method, r.path, r.headers, r.body);
}

Reply MakeReply(int status, std::string raw) {
  Reply reply;
  reply.status = status;
  reply.body = json::parse(raw, nullptr, false);
  reply.raw = std::move(raw);
  return reply;
}

std::string ErrorCode(const Reply& r) {
  if (!r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_object()) return "";
  return r.body["error"].value("code", "");
}

std::optional<ClaimReply> ParseClaim(const Reply& r) {
  if ((r.status != 200 && r.status != 201) || !r.body.is_object()) return std::nullopt;
  ClaimReply c;
  c.claim_id = r.body.value("claim_id", int64_t{0});
  c.packet_id = r.body.value("packet_id", int64_t{0});
  c.amount_cents = r.body.value("amount_cents", int64_t{0});
  c.repeat = r.body.value("repeat", false);
  if (c.claim_id <= 0 || c.amount_cents <= 0) return std::nullopt;
  return c;
}

Client::Client(const std::string& host, int port, Credentials credentials, int64_t timeout_ms)
    : creds_(std::move(credentials)), http_(std::make_unique<httplib::Client>(host, port)) {
  const time_t sec = static_cast<time_t>(timeout_ms / 1000);
  const time_t usec = static_cast<time_t>((timeout_ms % 1000) * 1000);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(sec, usec);
  http_->set_read_timeout(sec, usec);
  http_->set_write_timeout(sec, usec);
}

Client::~Client() = default;

Reply Client::Send(const Request& r) {
  httplib::Request req;
  req.method = r.method;
  req.path = r.path;
  for (const auto& [k, v] : r.headers) req.set_header(k, v);
  req.body = r.body;
  if (!r.body.empty() && !req.has_header("Content-Type")) {
    req.set_header("Content-Type", "application/json");
  }
  httplib::Result res = http_->send(req);
  if (!res) return {};
  return MakeReply(res->status, res->body);
}

Reply Client::Get(const std::string& path, int64_t user_id) {
  return Send(WithToken(creds_, "GET", path, user_id));
}
Reply Client::Post(const std::string& path, const std::string& body, int64_t user_id) {
  return Send(WithToken(creds_, "POST", path, user_id, body));
}
Reply Client::SendPacket(int64_t user_id, const SendBody& body) {
  return Send(api::SendPacket(creds_, user_id, body));
}
Reply Client::SendPacket(int64_t sender, const std::string& order_no, int64_t total_cents,
                         int64_t count, const std::string& split) {
  SendBody b;
  b.order_no = order_no;
  b.total_cents = total_cents;
  b.count = count;
  b.split = split;
  return SendPacket(sender, b);
}
Reply Client::Claim(int64_t packet_id, int64_t user_id) {
  return Send(api::Claim(creds_, packet_id, user_id));
}
Reply Client::Pay(const std::string& pay_order_no, const std::string& status,
                  int64_t amount_cents) {
  return Send(api::PaymentCallback(creds_, pay_order_no, status, amount_cents));
}
Reply Client::Recon(int64_t since_s) {
  return Send(api::AdminRecon(creds_, since_s));
}

}  // namespace rp::api
