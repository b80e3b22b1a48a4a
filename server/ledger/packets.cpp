#include "server/ledger/packets.h"

#include "common/check.h"
#include "server/ledger/row_parse.h"

namespace rp::ledger::packets {
namespace {

#define RP_PACKET_COLUMNS                                                                    \
  "packet_id, kind, sender_id, order_no, request_hash, COALESCE(pay_order_no, ''), "         \
  "COALESCE(subsidy_id, ''), status, audience, total_cents, count, share_cap_cents, split, " \
  "claimed_count, claimed_cents, created_at_ms, expires_at_ms"

const Sql kLoad("SELECT " RP_PACKET_COLUMNS " FROM packets WHERE packet_id = ?");
const Sql kLoadForUpdate("SELECT " RP_PACKET_COLUMNS
                         " FROM packets WHERE packet_id = ?{for_update}");
const Sql kListDue("SELECT " RP_PACKET_COLUMNS
                   " FROM packets WHERE status IN ('active', 'awaiting_payment') "
                   "AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?{skip_locked}");
const Sql kFindByOrder(
    "SELECT packet_id, request_hash FROM packets WHERE sender_id = ? AND order_no = ?");
const Sql kInsert(
    "INSERT INTO packets (kind, sender_id, order_no, request_hash, status, total_cents, count, "
    "share_cap_cents, split, audience, video_id, greeting, created_at_ms, expires_at_ms, "
    "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING packet_id");
const Sql kSetPayOrder("UPDATE packets SET pay_order_no = ? WHERE packet_id = ?");
const Sql kSetSubsidy("UPDATE packets SET subsidy_id = ? WHERE packet_id = ?");
const Sql kAddClaims(
    "UPDATE packets SET claimed_count = claimed_count + ?, claimed_cents = claimed_cents + ?, "
    "updated_at_ms = ? WHERE packet_id = ? AND claimed_count = ? AND status = 'active'");
const Sql kOpenIds(
    "SELECT packet_id FROM packets WHERE status IN ('awaiting_payment', 'active') "
    "ORDER BY packet_id DESC LIMIT ?");
const Sql kWithClaim(
    "SELECT p.status, p.count - p.claimed_count, c.claim_id, c.seq, c.amount_cents, "
    "c.claimed_at_ms, c.status FROM packets p LEFT JOIN claims c "
    "ON c.packet_id = p.packet_id AND c.user_id = ? WHERE p.packet_id = ?");

#undef RP_PACKET_COLUMNS

Result<PacketRecord> ReadRow(const Query& q) {
  PacketRecord p;
  p.packet_id = q.Int(0);
  p.sender_id = q.Int(2);
  p.order_no = q.Text(3);
  p.request_hash = q.Text(4);
  p.pay_order_no = q.Text(5);
  p.subsidy_id = q.Text(6);
  p.total_cents = q.Int(9);
  p.count = q.Int(10);
  p.share_cap_cents = q.Int(11);
  p.claimed_count = q.Int(13);
  p.claimed_cents = q.Int(14);
  p.created_at_ms = q.Int(15);
  p.expires_at_ms = q.Int(16);
  for (Status s : {ParseColumn(kPacketKinds, q.Text(1), "packet kind", &p.kind),
                   ParseColumn(kPacketStates, q.Text(7), "packet status", &p.state),
                   ParseColumn(kAudiences, q.Text(8), "audience", &p.audience),
                   ParseColumn(kSplitKinds, q.Text(12), "split", &p.split)}) {
    if (!s.ok()) return s;
  }
  // Asserted on read as well as on write (and restated by the schema's CHECK constraints).
  RP_CHECK(p.claimed_cents >= 0 && p.claimed_cents <= p.total_cents);
  RP_CHECK(p.claimed_count >= 0 && p.claimed_count <= p.count);
  return p;
}

Status NoPacket(int64_t packet_id) {
  return {Error::kPacketNotFound, "no packet " + std::to_string(packet_id)};
}

}  // namespace

Result<PacketRecord> Load(ReadTx& tx, int64_t packet_id, Lock lock) {
  Query q = tx.Run(lock == Lock::kForUpdate ? kLoadForUpdate : kLoad);
  q.Bind(packet_id);
  if (!q.Next()) return q.status().ok() ? NoPacket(packet_id) : q.status();
  return ReadRow(q);
}

Result<std::optional<OrderMatch>> FindByOrder(ReadTx& tx, int64_t sender_id,
                                              std::string_view order_no) {
  Query q = tx.Run(kFindByOrder);
  q.Bind(sender_id).Bind(order_no);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return std::optional<OrderMatch>();
  }
  return std::optional<OrderMatch>(OrderMatch{q.Int(0), q.Text(1)});
}

Result<int64_t> Insert(Tx& tx, const NewPacket& p) {
  Query q = tx.Run(kInsert);
  q.Bind(Name(p.kind))
      .Bind(p.sender_id)
      .Bind(p.order_no)
      .Bind(p.request_hash)
      .Bind(Name(PacketState::kAwaitingPayment))
      .Bind(p.total_cents)
      .Bind(p.count)
      .Bind(p.share_cap_cents)
      .Bind(Name(p.split))
      .Bind(Name(p.audience))
      .Bind(p.video_id)
      .Bind(p.greeting)
      .Bind(p.created_at_ms)
      .Bind(p.expires_at_ms)
      .Bind(p.created_at_ms);
  if (!q.Next()) return q.status().ok() ? Internal("packet insert returned no id") : q.status();
  return q.Int(0);
}

Status SetPayOrder(Tx& tx, int64_t packet_id, std::string_view pay_order_no) {
  return tx.Run(kSetPayOrder).Bind(pay_order_no).Bind(packet_id).Exec();
}

Status SetSubsidy(Tx& tx, int64_t packet_id, std::string_view subsidy_id) {
  return tx.Run(kSetSubsidy).Bind(subsidy_id).Bind(packet_id).Exec();
}

Status AddClaims(Tx& tx, int64_t packet_id, int64_t claims, int64_t amount_cents,
                 int64_t expected_count, int64_t now_ms) {
  RP_CHECK(claims >= 1 && amount_cents >= claims);
  Query q = tx.Run(kAddClaims);
  Status s =
      q.Bind(claims).Bind(amount_cents).Bind(now_ms).Bind(packet_id).Bind(expected_count).Exec();
  if (!s.ok()) return s;
  if (q.changes() != 1) {
    return {Error::kStateChanged, "packet " + std::to_string(packet_id) + " moved on"};
  }
  return Status::Ok();
}

Result<std::vector<PacketRecord>> ListDue(ReadTx& tx, int64_t now_ms, int limit) {
  std::vector<PacketRecord> out;
  Query q = tx.Run(kListDue);
  q.Bind(now_ms).Bind(int64_t{limit});
  while (q.Next()) {
    Result<PacketRecord> p = ReadRow(q);
    if (!p.ok()) return p.status();
    out.push_back(std::move(p.value()));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

Result<std::vector<int64_t>> OpenIds(ReadTx& tx, int64_t limit) {
  std::vector<int64_t> ids;
  Query q = tx.Run(kOpenIds);
  q.Bind(limit);
  while (q.Next()) ids.push_back(q.Int(0));
  if (!q.status().ok()) return q.status();
  return ids;
}

Result<WithClaim> LoadWithClaim(ReadTx& tx, int64_t packet_id, int64_t user_id) {
  Query q = tx.Run(kWithClaim);
  q.Bind(user_id).Bind(packet_id);
  if (!q.Next()) return q.status().ok() ? NoPacket(packet_id) : q.status();
  WithClaim v;
  Status s = ParseColumn(kPacketStates, q.Text(0), "packet status", &v.state);
  if (!s.ok()) return s;
  v.remaining_count = q.Int(1);
  if (!q.IsNull(2)) {
    ClaimRecord c{q.Int(2), packet_id, user_id, q.Int(3), q.Int(4), ClaimState::kTransferPending,
                  q.Int(5)};
    s = ParseColumn(kClaimStates, q.Text(6), "claim status", &c.state);
    if (!s.ok()) return s;
    v.claim = c;
  }
  return v;
}

}  // namespace rp::ledger::packets
