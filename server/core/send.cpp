#include "server/core/send.h"

#include <nlohmann/json.hpp>

#include "common/check.h"
#include "common/crypto.h"

namespace rp::core {
namespace {

size_t Utf8Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool HasControlChars(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool IsToken(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateSend(const SendRequest& r, const SendLimits& limits) {
  if (!IsToken(r.order_no, 64)) {
    return InvalidArgument("invalid_order_no", "order_no must be 1-64 characters of [A-Za-z0-9_-]");
  }
  if (r.kind != "c2c" && r.kind != "b2c") {
    return InvalidArgument("unsupported_kind", "kind must be \"c2c\" or \"b2c\"");
  }
  if ((r.kind == "b2c") != !r.subsidy_token.empty()) {
    return InvalidArgument("invalid_subsidy_token",
                           "a b2c packet needs a subsidy_token; a c2c packet takes none");
  }
  if (r.count < 1 || r.count > limits.count_max) {
    return InvalidArgument("invalid_count", "count must be 1.." + std::to_string(limits.count_max));
  }
  if (r.total_cents < 1) return InvalidArgument("invalid_amount", "total_cents must be positive");
  if (r.total_cents < r.count) {
    return InvalidArgument("invalid_amount", "total_cents must give every share at least 1 cent");
  }
  // count <= count_max <= 1e6 and share cap <= 1e8, so the product cannot overflow.
  if (r.total_cents > r.count * limits.share_cents_max) {
    return InvalidArgument("invalid_amount", "a share would exceed the per-share limit of " +
                                                 std::to_string(limits.share_cents_max) + " cents");
  }
  if (r.split != "random" && r.split != "even") {
    return InvalidArgument("invalid_split", "split must be \"random\" or \"even\"");
  }
  if (r.split == "even" && r.total_cents % r.count != 0) {
    return InvalidArgument("invalid_amount", "an even split needs total_cents divisible by count");
  }
  if (r.audience != "fans" && r.audience != "friends" && r.audience != "public") {
    return InvalidArgument("invalid_audience", "audience must be fans, friends or public");
  }
  if (!IsToken(r.video_id, 64)) {
    return InvalidArgument("invalid_video_id", "video_id must be 1-64 characters of [A-Za-z0-9_-]");
  }
  if (Utf8Chars(r.greeting) > static_cast<size_t>(limits.greeting_chars_max) ||
      HasControlChars(r.greeting)) {
    return InvalidArgument("invalid_greeting", "greeting must be at most " +
                                                   std::to_string(limits.greeting_chars_max) +
                                                   " characters without control characters");
  }
  return Status::Ok();
}

std::string RequestHash(const SendRequest& r) {
  // Length-prefixed fields: no two distinct requests share a canonical form.
  std::string canon;
  for (const std::string& f :
       {r.order_no, r.kind, std::to_string(r.total_cents), std::to_string(r.count), r.split,
        r.audience, r.video_id, r.greeting, r.subsidy_token}) {
    canon += std::to_string(f.size()) + ":" + f + ";";
  }
  return crypto::Sha256Hex(canon);
}

Status FindReplay(sql::Db& db, const SendRequest& req, int64_t sender_id, SendOutcome* out) {
  const std::string hash = RequestHash(req);
  sql::Stmt& find = db.Prepare(
      "SELECT packet_id, request_hash FROM packets WHERE sender_id = ? AND order_no = ?");
  find.Bind(1, sender_id).Bind(2, req.order_no);
  out->replay = false;
  if (!find.Step()) return find.status();
  const int64_t existing = find.Int(0);
  const bool same = find.Text(1) == hash;
  find.Reset();
  if (!same) {
    return Conflict("idempotency_conflict",
                    "order_no " + req.order_no + " was already used with a different request");
  }
  Result<PacketRow> row = LoadPacket(db, existing);
  if (!row.ok()) return row.status();
  out->packet = std::move(row.value());
  out->replay = true;
  return Status::Ok();
}

Result<int64_t> InsertPacket(sql::Db& db, const SendRequest& req, int64_t sender_id,
                             int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms) {
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO packets (kind, sender_id, order_no, request_hash, status, total_cents, count, "
      "share_cap_cents, split, audience, video_id, greeting, created_at_ms, expires_at_ms, "
      "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.Bind(1, req.kind).Bind(2, sender_id).Bind(3, req.order_no).Bind(4, RequestHash(req));
  ins.Bind(5, packet_state::kAwaitingPayment).Bind(6, req.total_cents).Bind(7, req.count);
  ins.Bind(8, share_cap_cents).Bind(9, req.split).Bind(10, req.audience).Bind(11, req.video_id);
  ins.Bind(12, req.greeting).Bind(13, now_ms).Bind(14, now_ms + ttl_ms).Bind(15, now_ms);
  ins.Step();
  if (!ins.status().ok()) return ins.status();
  const int64_t packet_id = db.LastInsertRowId();
  Status s = RecordTransition(db, PacketMachine(), packet_id, "", packet_state::kAwaitingPayment,
                              "send", now_ms);
  if (!s.ok()) return s;
  return packet_id;
}

Status SendTx(sql::Db& db, const SendRequest& req, int64_t sender_id, int64_t share_cap_cents,
              int64_t now_ms, int64_t ttl_ms, const std::optional<std::string>& payment_notify_url,
              SendOutcome* out) {
  Status s = FindReplay(db, req, sender_id, out);
  if (!s.ok() || out->replay) return s;
  Result<int64_t> packet_id = InsertPacket(db, req, sender_id, share_cap_cents, now_ms, ttl_ms);
  if (!packet_id.ok()) return packet_id.status();
  sql::Stmt& pay = db.Prepare("UPDATE packets SET pay_order_no = ? WHERE packet_id = ?");
  pay.Bind(1, PayOrderNo(*packet_id)).Bind(2, *packet_id);
  pay.Step();
  if (!pay.status().ok()) return pay.status();
  if (payment_notify_url) {
    nlohmann::json payload = {{"pay_order_no", PayOrderNo(*packet_id)},
                              {"payer_id", sender_id},
                              {"notify_url", *payment_notify_url}};
    s = EnqueueTask(db, "payment", PayOrderNo(*packet_id), *packet_id, req.total_cents,
                    payload.dump(), now_ms);
    if (!s.ok()) return s;
  }
  Result<PacketRow> row = LoadPacket(db, *packet_id);
  if (!row.ok()) return row.status();
  RP_CHECK(row->total_cents == req.total_cents && row->claimed_cents == 0);
  out->packet = std::move(row.value());
  return Status::Ok();
}

}  // namespace rp::core
