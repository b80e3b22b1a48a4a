#include "server/ledger/claims.h"

#include <string>

#include "server/ledger/row_parse.h"

namespace rp::ledger::claims {
namespace {

#define RP_CLAIM_COLUMNS "claim_id, packet_id, user_id, seq, amount_cents, status, claimed_at_ms"

const Sql kFind("SELECT " RP_CLAIM_COLUMNS " FROM claims WHERE packet_id = ? AND user_id = ?");
const Sql kFindMany("SELECT " RP_CLAIM_COLUMNS
                    " FROM claims WHERE packet_id = ? AND user_id IN "
                    "(SELECT CAST(value AS BIGINT) FROM {json_array}(?))");
const Sql kLoad("SELECT " RP_CLAIM_COLUMNS " FROM claims WHERE claim_id = ?");
const Sql kList("SELECT " RP_CLAIM_COLUMNS
                " FROM claims WHERE packet_id = ? AND seq > ? ORDER BY seq LIMIT ?");
const Sql kInsert(
    "INSERT INTO claims (packet_id, user_id, seq, amount_cents, status, claimed_at_ms, "
    "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING claim_id");
const Sql kBestLuck(
    "SELECT claim_id FROM claims WHERE packet_id = ? ORDER BY amount_cents DESC, seq ASC LIMIT 1");
const Sql kClaimers("SELECT user_id FROM claims WHERE packet_id = ? LIMIT ?");

#undef RP_CLAIM_COLUMNS

Result<ClaimRecord> ReadRow(const Query& q) {
  ClaimRecord c{q.Int(0), q.Int(1), q.Int(2), q.Int(3), q.Int(4), ClaimState::kTransferPending,
                q.Int(6)};
  Status s = ParseColumn(kClaimStates, q.Text(5), "claim status", &c.state);
  if (!s.ok()) return s;
  return c;
}

}  // namespace

Result<std::optional<ClaimRecord>> Find(ReadTx& tx, int64_t packet_id, int64_t user_id) {
  Query q = tx.Run(kFind);
  q.Bind(packet_id).Bind(user_id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return std::optional<ClaimRecord>();
  }
  Result<ClaimRecord> c = ReadRow(q);
  if (!c.ok()) return c.status();
  return std::optional<ClaimRecord>(*c);
}

Result<std::map<int64_t, ClaimRecord>> FindMany(ReadTx& tx, int64_t packet_id,
                                                const std::vector<int64_t>& user_ids) {
  std::string list = "[";
  for (int64_t u : user_ids) list += (list.size() > 1 ? "," : "") + std::to_string(u);
  list += "]";
  std::map<int64_t, ClaimRecord> found;
  Query q = tx.Run(kFindMany);
  q.Bind(packet_id).Bind(list);
  while (q.Next()) {
    Result<ClaimRecord> c = ReadRow(q);
    if (!c.ok()) return c.status();
    found.emplace(c->user_id, *c);
  }
  if (!q.status().ok()) return q.status();
  return found;
}

Result<ClaimRecord> Load(ReadTx& tx, int64_t claim_id) {
  Query q = tx.Run(kLoad);
  q.Bind(claim_id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return Status(Error::kClaimNotFound, "no claim " + std::to_string(claim_id));
  }
  return ReadRow(q);
}

Result<int64_t> Insert(Tx& tx, const ClaimRecord& c, int64_t now_ms) {
  Query q = tx.Run(kInsert);
  q.Bind(c.packet_id)
      .Bind(c.user_id)
      .Bind(c.seq)
      .Bind(c.amount_cents)
      .Bind(Name(c.state))
      .Bind(c.claimed_at_ms)
      .Bind(now_ms);
  if (!q.Next()) return q.status().ok() ? Internal("claim insert returned no id") : q.status();
  return q.Int(0);
}

Result<Page> List(ReadTx& tx, int64_t packet_id, int64_t after_seq, int limit) {
  Page page;
  Query q = tx.Run(kList);
  q.Bind(packet_id).Bind(after_seq).Bind(int64_t{limit} + 1);
  while (q.Next()) {
    Result<ClaimRecord> c = ReadRow(q);
    if (!c.ok()) return c.status();
    page.claims.push_back(*c);
  }
  if (!q.status().ok()) return q.status();
  if (static_cast<int>(page.claims.size()) > limit) {
    page.claims.pop_back();
    page.more = true;
  }
  return page;
}

Result<std::optional<int64_t>> BestLuck(ReadTx& tx, int64_t packet_id) {
  Query q = tx.Run(kBestLuck);
  q.Bind(packet_id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(q.Int(0));
}

Result<std::vector<int64_t>> Claimers(ReadTx& tx, int64_t packet_id, int64_t limit) {
  std::vector<int64_t> out;
  Query q = tx.Run(kClaimers);
  q.Bind(packet_id).Bind(limit + 1);
  while (q.Next()) out.push_back(q.Int(0));
  if (!q.status().ok()) return q.status();
  return out;
}

}  // namespace rp::ledger::claims
