// PaymentService: C2C checkout. POST /pay/orders creates a pay order (idempotent); after the
// [callback] switch's latency (default 20 ms) the payer "completes checkout": the order turns
// paid in the record, then a signed callback goes to the order's notify_url — unless the switch
// loses it (error_rate, down) or duplicates it (duplicate_rate). One scheduler thread holds the
// callbacks until they are due and hands them to a bounded delivery pool (never a thread per
// order); deliveries are retried on transport errors and 5xx a bounded number of times.
// GET /pay/orders/{no} lets the server poll. The protocol is common/downstream.h. Thread-safe.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <memory>
#include <queue>
#include <thread>
#include <vector>

#include "common/blocking_pool.h"
#include "common/downstream.h"
#include "mocks/mock_util.h"
#include "mocks/switches.h"

namespace rp::mock {

struct CallbackOptions {
  // Callbacks in flight at once. Each waits for the server to commit the payment, so this caps
  // delivery at threads / that time: with 2, a spike's 600 sends/s were paid seconds late and
  // the mock, not the server, decided when their claims came. A gateway delivers concurrently.
  int threads = 16;
  int queue_max = 100000;
  int retries_max = 5;
  int64_t default_delay_ms = 20;
};

class PaymentService {
 public:
  using Order = downstream::PayOrder;
  static Result<std::unique_ptr<PaymentService>> Open(const std::string& dir, std::string secret,
                                                      SwitchBoard* switches, CallbackOptions o);
  ~PaymentService();
  // Stops the callback threads (queued callbacks are dropped: like a crashed payment gateway).
  void Stop();
  Result<Order> Find(const std::string& pay_order_no);
  void Register(httplib::Server& server, const Guard& guard);

 private:
  struct Due {
    int64_t at_ms;
    std::string pay_order_no;
    std::string notify_url;
    bool deliver;  // false: the callback is lost (the order still turns paid).
    int copies;    // 2 when duplicated.
    bool operator>(const Due& o) const { return at_ms > o.at_ms; }
  };
  PaymentService(std::unique_ptr<Store> store, std::string secret, SwitchBoard* switches,
                 CallbackOptions o);
  void Create(const httplib::Request& req, httplib::Response& res);
  void ScheduleLoop();
  void Settle(const Due& due);

  std::unique_ptr<Store> store_;
  const std::string secret_;
  SwitchBoard* switches_;
  const CallbackOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> queue_;
  bool stopping_ = false;
  BlockingPool delivery_;
  std::thread scheduler_;
};

}  // namespace rp::mock
