#include "server/ledger/subsidies.h"

#include "server/ledger/row_parse.h"

namespace rp::ledger::subsidies {
namespace {

#define RP_SUBSIDY_COLUMNS                                                                   \
  "subsidy_id, user_id, round, amount_cents, expires_at_ms, state, COALESCE(packet_id, 0), " \
  "updated_at_ms"

const Sql kInsert(
    "INSERT INTO subsidies (subsidy_id, user_id, round, amount_cents, expires_at_ms, state, "
    "source, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'recorded', ?, ?, ?) "
    "ON CONFLICT (subsidy_id) DO NOTHING");
const Sql kLoad("SELECT " RP_SUBSIDY_COLUMNS " FROM subsidies WHERE subsidy_id = ?");
const Sql kLink("UPDATE subsidies SET packet_id = ? WHERE subsidy_id = ?");
const Sql kOfUser("SELECT " RP_SUBSIDY_COLUMNS " FROM subsidies WHERE user_id = ? LIMIT ?");
const Sql kInState("SELECT " RP_SUBSIDY_COLUMNS
                   " FROM subsidies WHERE state = ? AND updated_at_ms <= ? "
                   "ORDER BY updated_at_ms LIMIT ?");

#undef RP_SUBSIDY_COLUMNS

Result<SubsidyRecord> ReadRow(const Query& q) {
  SubsidyRecord r{q.Text(0), q.Int(1), q.Text(2), q.Int(3), q.Int(4), SubsidyState::kRecorded,
                  q.Int(6),  q.Int(7)};
  Status s = ParseColumn(kSubsidyStates, q.Text(5), "subsidy state", &r.state);
  if (!s.ok()) return s;
  return r;
}

Result<std::vector<SubsidyRecord>> ReadAll(Query& q) {
  std::vector<SubsidyRecord> out;
  while (q.Next()) {
    Result<SubsidyRecord> r = ReadRow(q);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r.value()));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

}  // namespace

Status InsertIfAbsent(Tx& tx, const SubsidyRecord& s, std::string_view source, int64_t now_ms) {
  return tx.Run(kInsert)
      .Bind(s.subsidy_id)
      .Bind(s.user_id)
      .Bind(s.round)
      .Bind(s.amount_cents)
      .Bind(s.expires_at_ms)
      .Bind(source)
      .Bind(now_ms)
      .Bind(now_ms)
      .Exec();
}

Result<SubsidyRecord> Load(ReadTx& tx, const std::string& subsidy_id) {
  Query q = tx.Run(kLoad);
  q.Bind(subsidy_id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return Status(Error::kSubsidyNotFound, "no subsidy " + subsidy_id);
  }
  return ReadRow(q);
}

Status LinkPacket(Tx& tx, const std::string& subsidy_id, int64_t packet_id) {
  return tx.Run(kLink).Bind(packet_id).Bind(subsidy_id).Exec();
}

Result<std::vector<SubsidyRecord>> OfUser(ReadTx& tx, int64_t user_id, int limit) {
  Query q = tx.Run(kOfUser);
  q.Bind(user_id).Bind(int64_t{limit});
  return ReadAll(q);
}

Result<std::vector<SubsidyRecord>> InState(ReadTx& tx, SubsidyState state, int64_t before_ms,
                                           int limit) {
  Query q = tx.Run(kInState);
  q.Bind(Name(state)).Bind(before_ms).Bind(int64_t{limit});
  return ReadAll(q);
}

}  // namespace rp::ledger::subsidies
