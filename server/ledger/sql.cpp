#include "server/ledger/sql.h"

#include <atomic>
#include <utility>

namespace rp::ledger {
namespace {

// Statements are namespace-scope constants, constructed during static initialisation (one
// thread); the counter is a function-local static so its own initialisation comes first.
std::atomic<int>& NextId() {
  static std::atomic<int> next{0};
  return next;
}

std::atomic<int64_t> g_statements_run{0};

}  // namespace

void CountStatement() {
  g_statements_run.fetch_add(1, std::memory_order_relaxed);
}

int64_t StatementsRun() {
  return g_statements_run.load(std::memory_order_relaxed);
}

Sql::Sql(const char* text, Answer answer) : text_(text), id_(NextId()++), answer_(answer) {}

std::string FillHooks(std::string_view portable, const Dialect& dialect) {
  const std::pair<std::string_view, std::string_view> hooks[] = {
      {"{for_update}", dialect.for_update},
      {"{skip_locked}", dialect.skip_locked},
      {"{in_row_order}", dialect.in_row_order},
      {"{row_id}", dialect.row_id},
      {"{json_array}", dialect.json_array},
      {"{begin}", dialect.begin},
      {"{pk}", dialect.pk},
      {"{int}", dialect.int_type},
  };
  std::string s(portable);
  for (const auto& [hook, text] : hooks) {
    for (size_t at = s.find(hook); at != std::string::npos; at = s.find(hook, at + text.size())) {
      s.replace(at, hook.size(), text);
    }
  }
  return s;
}

}  // namespace rp::ledger
