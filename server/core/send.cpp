#include "server/core/send.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "common/check.h"
#include "common/crypto.h"
#include "common/utf8.h"
#include "server/core/order_numbers.h"
#include "server/ledger/outbox.h"
#include "server/ledger/packets.h"
#include "server/ledger/state.h"

namespace rp::core {
namespace {

size_t Utf8Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Characters a greeting may not hold: controls (C0, DEL, C1), line and paragraph separators, and
// the invisible ones that change how the text around them reads or displays — bidi embeddings,
// overrides and isolates (U+202A..U+202E, U+2066..U+2069; "Trojan Source"), marks (U+061C,
// U+200E, U+200F), zero-width spaces and joiners that only hide (U+200B, U+2060..U+2064, the
// BOM U+FEFF), deprecated format controls (U+206A..U+206F) and interlinear annotations
// (U+FFF9..U+FFFB). Zero-width (non-)joiners U+200C/U+200D, variation selectors and tag
// characters stay: emoji sequences and scripts need them.
bool Forbidden(char32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200b || c == 0x200e ||
         c == 0x200f || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206f) || c == 0xfeff ||
         (c >= 0xfff9 && c <= 0xfffb);
}

bool IsPlainText(const std::string& s) {
  std::optional<std::u32string> chars = DecodeUtf8(s);
  return chars && std::none_of(chars->begin(), chars->end(), Forbidden);
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

Status ValidateSend(const SendRequest& r, const PacketOptions& limits) {
  if (!IsToken(r.order_no, 64)) {
    return Status(Error::kInvalidOrderNo, "order_no must be 1-64 characters of [A-Za-z0-9_-]");
  }
  const auto kind = ledger::kPacketKinds.Parse(r.kind);
  if (!kind) {
    return Status(Error::kUnsupportedKind, "kind must be \"c2c\" or \"b2c\"");
  }
  if ((*kind == ledger::PacketKind::kB2c) != !r.subsidy_token.empty()) {
    return Status(Error::kInvalidSubsidyToken,
                  "a b2c packet needs a subsidy_token; a c2c packet takes none");
  }
  if (r.count < 1 || r.count > limits.count_max) {
    return Status(Error::kInvalidCount, "count must be 1.." + std::to_string(limits.count_max));
  }
  if (r.total_cents < 1) return Status(Error::kInvalidAmount, "total_cents must be positive");
  if (r.total_cents < r.count) {
    return Status(Error::kInvalidAmount, "total_cents must give every share at least 1 cent");
  }
  // count <= count_max <= 1e6 and share cap <= 1e8, so the product cannot overflow.
  if (r.total_cents > r.count * limits.share_cents_max) {
    return Status(Error::kInvalidAmount, "a share would exceed the per-share limit of " +
                                             std::to_string(limits.share_cents_max) + " cents");
  }
  const auto split = ledger::kSplitKinds.Parse(r.split);
  if (!split) {
    return Status(Error::kInvalidSplit, "split must be \"random\" or \"even\"");
  }
  if (*split == ledger::SplitKind::kEven && r.total_cents % r.count != 0) {
    return Status(Error::kInvalidAmount, "an even split needs total_cents divisible by count");
  }
  if (!ledger::kAudiences.Parse(r.audience)) {
    return Status(Error::kInvalidAudience, "audience must be fans, friends or public");
  }
  if (!IsToken(r.video_id, 64)) {
    return Status(Error::kInvalidVideoId, "video_id must be 1-64 characters of [A-Za-z0-9_-]");
  }
  if (Utf8Chars(r.greeting) > static_cast<size_t>(limits.greeting_chars_max) ||
      !IsPlainText(r.greeting)) {
    return Status(Error::kInvalidGreeting,
                  "greeting must be at most " + std::to_string(limits.greeting_chars_max) +
                      " characters of UTF-8 text without control characters, line separators or "
                      "invisible formatting (bidi overrides, zero-width spaces)");
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

Status FindReplay(ledger::Tx& tx, const SendRequest& req, int64_t sender_id, SendOutcome* out) {
  out->replay = false;
  Result<std::optional<ledger::packets::OrderMatch>> found =
      ledger::packets::FindByOrder(tx, sender_id, req.order_no);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Ok();
  if ((*found)->request_hash != RequestHash(req)) {
    return {Error::kIdempotencyConflict,
            "order_no " + req.order_no + " was already used with a different request"};
  }
  Result<ledger::PacketRecord> row = ledger::packets::Load(tx, (*found)->packet_id);
  if (!row.ok()) return row.status();
  out->packet = std::move(row.value());
  out->replay = true;
  return Status::Ok();
}

Result<int64_t> InsertPacket(ledger::Tx& tx, const SendRequest& req, int64_t sender_id,
                             int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms) {
  ledger::NewPacket p;
  const auto kind = ledger::kPacketKinds.Parse(req.kind);
  const auto split = ledger::kSplitKinds.Parse(req.split);
  const auto audience = ledger::kAudiences.Parse(req.audience);
  if (!kind || !split || !audience) {
    return Status(Error::kInvalidType, "send request was not validated");
  }
  p.kind = *kind;
  p.split = *split;
  p.audience = *audience;
  p.sender_id = sender_id;
  p.order_no = req.order_no;
  p.request_hash = RequestHash(req);
  p.total_cents = req.total_cents;
  p.count = req.count;
  p.share_cap_cents = share_cap_cents;
  p.video_id = req.video_id;
  p.greeting = req.greeting;
  p.created_at_ms = now_ms;
  p.expires_at_ms = now_ms + ttl_ms;
  Result<int64_t> id = ledger::packets::Insert(tx, p);
  if (!id.ok()) return id.status();
  Status s = ledger::RecordCreated(tx, *id, ledger::PacketState::kAwaitingPayment, "send", now_ms);
  if (!s.ok()) return s;
  return id;
}

Status SendTx(ledger::Tx& tx, const SendRequest& req, int64_t sender_id, int64_t share_cap_cents,
              int64_t now_ms, int64_t ttl_ms, const std::optional<std::string>& payment_notify_url,
              SendOutcome* out) {
  Status s = FindReplay(tx, req, sender_id, out);
  if (!s.ok() || out->replay) return s;
  Result<int64_t> packet_id = InsertPacket(tx, req, sender_id, share_cap_cents, now_ms, ttl_ms);
  if (!packet_id.ok()) return packet_id.status();
  s = ledger::packets::SetPayOrder(tx, *packet_id, PayOrderNo(*packet_id));
  if (!s.ok()) return s;
  if (payment_notify_url) {
    nlohmann::json payload = {{"pay_order_no", PayOrderNo(*packet_id)},
                              {"payer_id", sender_id},
                              {"notify_url", *payment_notify_url}};
    s = ledger::outbox::Enqueue(tx,
                                {ledger::TaskKind::kPayment, PayOrderNo(*packet_id), *packet_id,
                                 req.total_cents, payload.dump()},
                                now_ms);
    if (!s.ok()) return s;
  }
  Result<ledger::PacketRecord> row = ledger::packets::Load(tx, *packet_id);
  if (!row.ok()) return row.status();
  RP_CHECK(row->total_cents == req.total_cents && row->claimed_cents == 0);
  out->packet = std::move(row.value());
  return Status::Ok();
}

}  // namespace rp::core
