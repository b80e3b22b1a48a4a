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

}  // namespace

Sql::Sql(const char* text, Answer answer) : text_(text), id_(NextId()++), answer_(answer) {}

}  // namespace rp::ledger
