#include "server/base/redis_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>

#include "common/crypto.h"

namespace rp::base {
namespace {

RedisValue Copy(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(Copy(r->element[i]));
      break;
    default:
      break;  // Nil.
  }
  return v;
}

std::atomic<int64_t> g_round_trips{0};

}  // namespace

void CountRedisRoundTrip() {
  g_round_trips.fetch_add(1, std::memory_order_relaxed);
}

int64_t RedisRoundTrips() {
  return g_round_trips.load(std::memory_order_relaxed);
}

Status RedisUnavailable(const std::string& what) {
  return Status(Error::kRedisUnavailable, "redis: " + what);
}

timeval RedisTimeval(int64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// Redis keys scripts by their SHA1.
std::string RedisScriptSha(const std::string& script) {
  return crypto::Sha1Hex(script);
}

struct RedisPool::Conn {
  redisContext* ctx = nullptr;
  ~Conn() {
    if (ctx != nullptr) redisFree(ctx);
  }
};

Result<RedisOptions> ParseRedisUrl(const std::string& url) {
  RedisOptions o;
  std::string rest = url;
  for (const char* scheme : {"tcp://", "redis://"}) {
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::string(scheme).size());
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(Error::kBadConfig, "redis.url must look like tcp://HOST:PORT");
  }
  o.host = rest.substr(0, colon);
  o.port = std::atoi(rest.c_str() + colon + 1);
  if (o.port <= 0 || o.port > 65535) return Status(Error::kBadConfig, "bad redis port");
  return o;
}

RedisPool::RedisPool(RedisOptions options) : options_(std::move(options)) {}

RedisPool::~RedisPool() = default;

std::unique_ptr<RedisPool::Conn> RedisPool::Acquire(Status* s) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    const bool got = cv_.wait_for(lock, std::chrono::milliseconds(options_.acquire_ms),
                                  [this] { return !idle_.empty() || open_ < options_.pool_size; });
    if (!got) {
      *s = RedisUnavailable("no free connection");
      return nullptr;
    }
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
  }
  auto c = std::make_unique<Conn>();
  c->ctx = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                   RedisTimeval(options_.deadline_ms));
  if (c->ctx == nullptr || c->ctx->err != 0) {
    *s = RedisUnavailable(c->ctx ? c->ctx->errstr : "cannot allocate a context");
    Release(nullptr);
    return nullptr;
  }
  redisSetTimeout(c->ctx, RedisTimeval(options_.deadline_ms));
  return c;
}

void RedisPool::Release(std::unique_ptr<Conn> c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c != nullptr && c->ctx != nullptr && c->ctx->err == 0) {
      idle_.push_back(std::move(c));
    } else {
      --open_;  // Broken or never opened: its slot is free for a fresh dial.
    }
  }
  cv_.notify_one();
}

Result<redisReply*> RedisPool::Run(const std::vector<std::string>& argv) {
  Status s;
  std::unique_ptr<Conn> c = Acquire(&s);
  if (c == nullptr) {
    ++errors_;
    return s;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  CountRedisRoundTrip();
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c->ctx, static_cast<int>(args.size()), args.data(), lens.data()));
  if (reply == nullptr) {
    ++errors_;
    std::string why = c->ctx->errstr;
    Release(std::move(c));  // err is set: the connection is dropped.
    return RedisUnavailable(why);
  }
  Release(std::move(c));
  return reply;
}

Status RedisPool::DeleteKeys(const std::vector<std::string>& keys) {
  constexpr size_t kKeysPerDel = 512;  // One command stays small and quick under the deadline.
  for (size_t at = 0; at < keys.size(); at += kKeysPerDel) {
    std::vector<std::string> argv = {"DEL"};
    argv.insert(
        argv.end(), keys.begin() + static_cast<std::ptrdiff_t>(at),
        keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), at + kKeysPerDel)));
    Status s = Command(argv);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status RedisPool::Command(const std::vector<std::string>& argv) {
  Result<redisReply*> r = Run(argv);
  if (!r.ok()) return r.status();
  const bool error = (*r)->type == REDIS_REPLY_ERROR;
  std::string msg = error ? std::string((*r)->str, (*r)->len) : "";
  freeReplyObject(*r);
  if (error) {
    ++errors_;
    return RedisUnavailable(msg);
  }
  return Status::Ok();
}

Result<RedisValue> RedisPool::Query(const std::vector<std::string>& argv) {
  Result<redisReply*> r = Run(argv);
  if (!r.ok()) return r.status();
  if ((*r)->type == REDIS_REPLY_ERROR) {
    std::string msg((*r)->str, (*r)->len);
    freeReplyObject(*r);
    ++errors_;
    return RedisUnavailable(msg);
  }
  RedisValue v = Copy(*r);
  freeReplyObject(*r);
  return v;
}

Result<int64_t> RedisPool::EvalInt(const std::string& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  const std::string sha = RedisScriptSha(script);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::string> argv = {"EVALSHA", sha, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    Result<redisReply*> r = Run(argv);
    if (!r.ok()) return r.status();
    redisReply* reply = *r;
    if (reply->type == REDIS_REPLY_INTEGER) {
      const int64_t v = reply->integer;
      freeReplyObject(reply);
      return v;
    }
    const std::string err =
        reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "";
    freeReplyObject(reply);
    if (attempt == 0 && err.rfind("NOSCRIPT", 0) == 0) {
      Status loaded = Command({"SCRIPT", "LOAD", script});  // Restarted or flushed: load again.
      if (!loaded.ok()) return loaded;
      continue;
    }
    ++errors_;
    return RedisUnavailable(err.empty() ? "unexpected reply type" : err);
  }
  return RedisUnavailable("script could not be loaded");
}

}  // namespace rp::base
