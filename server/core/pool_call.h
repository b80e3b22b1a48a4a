// RunOn: blocking work on a bounded pool, its result delivered to a callback exactly once — on
// the pool's thread; at once with the pool's refusal (Overloaded) when it is full or its expected
// wait is past its bound; or, the work not run, with Overloaded once it waited in the queue past
// that bound (common/blocking_pool.h). An exception escaping the work is a bug: it is logged and
// delivered as Internal instead of taking the process down or leaving a client without an
// answer.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <utility>

#include "common/blocking_pool.h"
#include "common/status.h"

namespace rp::core {

template <typename T>
void RunOn(BlockingPool* pool, std::function<Result<T>()> work,
           std::function<void(Result<T>)> done) {
  Status s = pool->Submit(
      [work = std::move(work), done] {
        Result<T> r = Internal("no result");
        try {
          r = work();
        } catch (const std::exception& e) {
          spdlog::error("blocking call failed with an exception: {}", e.what());
          r = Internal("unexpected error; see the server log");
        }
        done(std::move(r));
      },
      [done](Status refused) { done(std::move(refused)); });
  if (!s.ok()) done(s);
}

}  // namespace rp::core
