// The PostgreSQL engine's statements: a portable statement's text for PostgreSQL, its execution
// on a PgConnection (prepared with its first run, sent ahead or awaited), and PostgreSQL's errors
// mapped onto ours.
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/clock.h"
#include "server/ledger/pg_conn.h"

namespace rp::ledger {
namespace {

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

// One prepared statement: parameters bound as text, executed on the first Step(), its rows read
// from the result. Prepared on the server with its first execution, in the same round trip.
class PgStatement final : public Statement {
 public:
  PgStatement(PgConnection* conn, std::string name, std::string text, int params,
              bool takes_row_locks, bool sent_ahead)
      : conn_(conn),
        name_(std::move(name)),
        text_(std::move(text)),
        values_(static_cast<size_t>(params)),
        takes_row_locks_(takes_row_locks),
        sent_ahead_(sent_ahead) {}
  ~PgStatement() override { Clear(); }

  void BindInt(int index, int64_t value) override { Set(index, std::to_string(value)); }
  void BindText(int index, std::string_view value) override { Set(index, std::string(value)); }
  void BindNull(int index) override {
    if (index >= 1 && static_cast<size_t>(index) <= values_.size()) values_[index - 1].reset();
  }

  bool Step() override {
    if (!executed_) Execute();
    if (!status_.ok() || result_ == nullptr) return false;
    if (row_ + 1 >= PQntuples(result_)) {
      row_ = PQntuples(result_);
      return false;
    }
    ++row_;
    return true;
  }
  const Status& status() const override { return status_; }
  int64_t Int(int col) const override {
    const char* v = PQgetvalue(result_, row_, col);
    if (v[0] == 't' && v[1] == '\0') return 1;  // Booleans (EXISTS).
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return std::strtoll(v, nullptr, 10);
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  bool IsNull(int col) const override { return PQgetisnull(result_, row_, col) != 0; }
  int64_t Changes() const override { return changes_; }
  void Reset() override {
    Clear();
    for (auto& v : values_) v.reset();
  }

 private:
  void Set(int index, std::string value) {
    if (index >= 1 && static_cast<size_t>(index) <= values_.size()) {
      values_[index - 1] = std::move(value);
    }
  }
  void Clear() {
    if (result_ != nullptr) PQclear(result_);
    result_ = nullptr;
    executed_ = false;
    row_ = -1;
    changes_ = 0;
    status_ = Status::Ok();
  }
  void Execute() {
    executed_ = true;
    std::vector<const char*> params;
    params.reserve(values_.size());
    for (const auto& v : values_) params.push_back(v ? v->c_str() : nullptr);
    const int64_t start_ns = takes_row_locks_ ? MonotonicNs() : 0;
    conn_->StartIfPending();
    if (!prepared_) {
      // Counted as prepared from now on, so a statement executed again before the answer
      // arrives (sent ahead) is not prepared twice; an answer that says it failed resets it.
      conn_->SendPrepare(name_, text_, static_cast<int>(values_.size()), &prepared_);
      prepared_ = true;
    }
    conn_->SendPrepared(name_, params);
    if (sent_ahead_) {  // Answered with the next awaited statement.
      conn_->LimitOwed();
      return;
    }
    status_ = conn_->Round(&result_);
    if (takes_row_locks_) {
      ++conn_->figures().row_lock_waits;
      conn_->figures().row_lock_wait_ns += MonotonicNs() - start_ns;
    }
    if (!status_.ok()) return;
    const char* n = PQcmdTuples(result_);
    changes_ = n != nullptr && n[0] != '\0' ? std::strtoll(n, nullptr, 10) : 0;
  }

  PgConnection* conn_;
  const std::string name_;
  const std::string text_;
  std::vector<std::optional<std::string>> values_;
  const bool takes_row_locks_;
  const bool sent_ahead_;
  bool prepared_ = false;  // On this connection's server session (a reconnect starts anew).
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
  int64_t changes_ = 0;
  Status status_;
};

}  // namespace

std::unique_ptr<Statement> MakePgStatement(PgConnection* conn, std::string name, std::string text,
                                           int params, bool takes_row_locks, bool sent_ahead) {
  return std::make_unique<PgStatement>(conn, std::move(name), std::move(text), params,
                                       takes_row_locks, sent_ahead);
}

std::string PgText(std::string_view portable, int* params) {
  std::string s;
  s.reserve(portable.size() + 16);
  int n = 0;
  for (char c : portable) {
    if (c == '?') {
      s += "$" + std::to_string(++n);
    } else {
      s += c;
    }
  }
  *params = n;
  ReplaceAll(&s, "{for_update}", " FOR UPDATE");
  ReplaceAll(&s, "{skip_locked}", " FOR UPDATE SKIP LOCKED");
  ReplaceAll(&s, "{in_row_order}", "");
  ReplaceAll(&s, "{row_id}", "ctid");
  ReplaceAll(&s, "{json_array}", "jsonb_array_elements_text");
  ReplaceAll(&s, "{begin}", "BEGIN");
  ReplaceAll(&s, "{pk}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  ReplaceAll(&s, "{int}", "BIGINT");
  return s;
}

Status PgError(const PGresult* result, PGconn* conn, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  message = std::string(what) + ": [" + code + "] " + message;
  if (PQstatus(conn) != CONNECTION_OK || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) {
    return {Error::kStorageBusy, "ledger connection lost: " + message};
  }
  // Retryable: the transaction lost a race the server resolved by aborting it, or waited too
  // long for a lock, or the server is short of resources (disk full, out of connections).
  if (code == "40001" || code == "40P01" || code == "55P03" || code.rfind("53", 0) == 0) {
    return {Error::kStorageBusy, message};
  }
  if (code == "57014") return {Error::kTimeout, message};
  if (code.rfind("23", 0) == 0) return {Error::kConstraintViolation, message};
  return Internal(message);
}

}  // namespace rp::ledger
