#include "mocks/payment.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/clock.h"
#include "common/crypto.h"

namespace rp::mock {
namespace {

using nlohmann::json;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS orders (
  pay_order_no TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, payer_id INTEGER NOT NULL,
  notify_url TEXT NOT NULL, status TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
)sql";

// Splits "http://host:port/path" for the callback client.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  size_t slash = url.find('/', scheme.size());
  if (slash == std::string::npos) return false;
  *origin = url.substr(0, slash);
  *path = url.substr(slash);
  return true;
}

}  // namespace

Result<std::unique_ptr<PaymentService>> PaymentService::Open(const std::string& dir,
                                                             std::string secret,
                                                             SwitchBoard* switches,
                                                             CallbackOptions o) {
  Result<std::unique_ptr<Store>> store = Store::Open(dir + "/payment.db", kSchema);
  if (!store.ok()) return store.status();
  return std::unique_ptr<PaymentService>(
      new PaymentService(std::move(store.value()), std::move(secret), switches, o));
}

PaymentService::PaymentService(std::unique_ptr<Store> store, std::string secret,
                               SwitchBoard* switches, CallbackOptions o)
    : store_(std::move(store)),
      secret_(std::move(secret)),
      switches_(switches),
      options_(o),
      delivery_(o.threads, o.queue_max, "payment callback") {
  scheduler_ = std::thread([this] { ScheduleLoop(); });
}

PaymentService::~PaymentService() {
  Stop();
}

void PaymentService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  delivery_.Stop();
}

Result<PaymentService::Order> PaymentService::Find(const std::string& no) {
  Order o;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT pay_order_no, status, amount_cents, payer_id FROM orders WHERE pay_order_no = ?");
    q.Bind(1, no);
    if (!q.Step()) return Status(Error::kPayOrderNotFound, "no pay order " + no);
    o = {q.Text(0), q.Text(1), q.Int(2), q.Int(3)};
    q.Reset();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return o;
}

void PaymentService::Create(const httplib::Request& req, httplib::Response& res) {
  json b;
  if (!ParseBody(req, res, &b)) return;
  Result<downstream::PayOrderRequest> r = downstream::ParsePayOrderRequest(b);
  std::string origin, path;
  if (!r.ok()) return ReplyStatus(res, r.status());
  if (!SplitUrl(r->notify_url, &origin, &path)) {
    return ReplyError(res, 400, "invalid_type", "notify_url must be http://host:port/path");
  }
  Order o{r->pay_order_no, "pending", r->amount_cents, r->payer_id};
  const std::string notify_url = r->notify_url;
  int status = 201;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& q =
        db.Prepare("SELECT amount_cents, payer_id, status FROM orders WHERE pay_order_no = ?");
    q.Bind(1, o.pay_order_no);
    if (q.Step()) {
      const bool same = q.Int(0) == o.amount_cents && q.Int(1) == o.payer_id;
      o.status = q.Text(2);
      q.Reset();
      status = 200;
      return same ? Status::Ok()
                  : Status(Error::kIdempotencyConflict, "pay order exists, differently");
    }
    sql::Stmt& ins = db.Prepare(
        "INSERT INTO orders (pay_order_no, amount_cents, payer_id, notify_url, status, "
        "created_at_ms) VALUES (?, ?, ?, ?, 'pending', ?)");
    ins.Bind(1, o.pay_order_no).Bind(2, o.amount_cents).Bind(3, o.payer_id).Bind(4, notify_url);
    ins.Bind(5, SystemClock().NowMs());
    ins.Step();
    return ins.status();
  });
  if (!s.ok()) return ReplyStatus(res, s);
  if (status == 201) {
    Fault f = switches_->Decide("payment", "callback");
    const int64_t delay = f.delay_ms > 0 ? f.delay_ms : options_.default_delay_ms;
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(queue_.size()) >= options_.queue_max) {
      return ReplyError(res, 503, "overloaded", "the payment mock's callback queue is full");
    }
    queue_.push({SystemClock().NowMs() + delay, o.pay_order_no, notify_url, !f.down && !f.error,
                 f.duplicate ? 2 : 1});
    cv_.notify_one();
  }
  Reply(res, status, downstream::ToJson(o));
}

// Waits for the next callback to be due and hands it to the delivery pool; a full pool drops
// it (as an overloaded payment gateway would; the server's polling still settles the order).
void PaymentService::ScheduleLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const int64_t wait_ms = queue_.top().at_ms - SystemClock().NowMs();
    if (wait_ms > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
      continue;
    }
    Due due = queue_.top();
    queue_.pop();
    lock.unlock();
    Status s = delivery_.Submit([this, due] { Settle(due); });
    if (!s.ok()) spdlog::warn("payment callback for {} dropped: {}", due.pay_order_no, s.message());
    lock.lock();
  }
}

// The payer completed checkout: the order is paid, then (maybe) the callback goes out.
void PaymentService::Settle(const Due& due) {
  Result<Order> o = Find(due.pay_order_no);
  if (!o.ok()) return;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& up = db.Prepare("UPDATE orders SET status = 'paid' WHERE pay_order_no = ?");
    up.Bind(1, due.pay_order_no);
    up.Step();
    return up.status();
  });
  if (!s.ok() || !due.deliver) return;
  std::string origin, path;
  SplitUrl(due.notify_url, &origin, &path);
  const std::string body =
      downstream::ToJson(downstream::PaymentCallback{due.pay_order_no, "paid", o->amount_cents})
          .dump();
  httplib::Client client(origin);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  const httplib::Headers headers = {
      {downstream::kSignatureHeader, crypto::HmacSha256Hex(secret_, body)}};
  for (int copy = 0; copy < due.copies; ++copy) {
    for (int attempt = 0; attempt < options_.retries_max; ++attempt) {
      auto r = client.Post(path, headers, body, "application/json");
      if (r && r->status < 500) break;  // Delivered (2xx) or refused for good (4xx).
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));  // Bounded backoff.
    }
  }
}

void PaymentService::Register(httplib::Server& server, const Guard& guard) {
  server.Post(downstream::kPayOrders,
              guard("orders", [this](const auto& req, auto& res) { Create(req, res); }));
  server.Get(downstream::kPayOrderPattern,
             guard("query", [this](const httplib::Request& req, httplib::Response& res) {
               Result<Order> o = Find(req.matches[1]);
               if (!o.ok()) return ReplyStatus(res, o.status());
               Reply(res, 200, downstream::ToJson(*o));
             }));
  server.Get(downstream::kPayExport, [this](const httplib::Request&, httplib::Response& res) {
    json orders = json::array();
    Status s = store_->Tx([&](sql::Db& db) {
      sql::Stmt& q = db.Prepare("SELECT pay_order_no, status, amount_cents, payer_id FROM orders");
      while (q.Step())
        orders.push_back(downstream::ToJson({q.Text(0), q.Text(1), q.Int(2), q.Int(3)}));
      return q.status();
    });
    if (!s.ok()) return ReplyStatus(res, s);
    Reply(res, 200, {{"orders", orders}});
  });
}

}  // namespace rp::mock
