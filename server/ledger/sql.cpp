#include "server/ledger/sql.h"

#include <atomic>

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

}  // namespace rp::ledger
