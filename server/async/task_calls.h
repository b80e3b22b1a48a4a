// TaskCalls: one worker's calls to the downstream services for its tasks — a transfer or a
// refund at the wallet, a pay order created and polled at the payment service. Each call has a
// deadline and carries the task's order number. Not thread-safe: one per worker thread.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "server/async/async_service.h"
#include "server/base/service_client.h"
#include "server/ledger/engine.h"

namespace rp::async {

class TaskCalls {
 public:
  // ledger and clock are not owned and must outlive this.
  TaskCalls(const WorkerTargets& targets, ledger::Engine* ledger, const Clock* clock,
            int64_t late_poll_ms);
  // OK when the task's downstream effect is confirmed (or there is nothing left to do);
  // Unavailable(payment_pending) when a pay order is still open; another error to retry.
  Status Execute(const Task& t);

 private:
  Status Transfer(const Task& t, const nlohmann::json& payload);
  Status Refund(const Task& t, const nlohmann::json& payload);
  Status Payment(const Task& t, const nlohmann::json& payload);

  base::ServiceClient wallet_;
  base::ServiceClient payment_;
  ledger::Engine* ledger_;
  const Clock* clock_;
  const int64_t late_poll_ms_;
};

}  // namespace rp::async
