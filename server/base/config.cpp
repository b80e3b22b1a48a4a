#include "server/base/config.h"

#include <yaml-cpp/yaml.h>

#include "common/yaml_file.h"

#include <cstdlib>
#include <functional>
#include <map>

namespace rp::base {
namespace {

using Setter = std::function<void(const YAML::Node&)>;

template <typename T>
Setter Set(T* field) {
  return [field](const YAML::Node& n) { *field = n.as<T>(); };
}

std::map<std::string, std::map<std::string, Setter>> Schema(ServerConfig* c) {
  return {
      {"server",
       {{"host", Set(&c->host)},
        {"port", Set(&c->port)},
        {"threads", Set(&c->threads)},
        {"body_bytes_max", Set(&c->body_bytes_max)},
        {"connections_max", Set(&c->connections_max)},
        {"shutdown_grace_ms", Set(&c->shutdown_grace_ms)}}},
      {"ledger",
       {{"path", Set(&c->db_path)},
        {"synchronous", Set(&c->synchronous)},
        {"writer_queue_max", Set(&c->writer_queue_max)},
        {"writer_batch_max", Set(&c->writer_batch_max)},
        {"read_connections", Set(&c->read_connections)}}},
      {"claim",
       {{"scheme", Set(&c->claim_scheme)},
        {"batch_max", Set(&c->claim_batch_max)},
        {"redis_reset_max", Set(&c->claim_redis_reset_max)}}},
      {"packet",
       {{"ttl_s", Set(&c->packet_ttl_s)},
        {"count_max", Set(&c->count_max)},
        {"share_cents_max", Set(&c->share_cents_max)},
        {"greeting_chars_max", Set(&c->greeting_chars_max)}}},
      {"scanner",
       {{"interval_ms", Set(&c->scanner_interval_ms)}, {"batch_max", Set(&c->scanner_batch_max)}}},
      {"mocks", {{"url", Set(&c->mocks_url)}}},
      {"payment",
       {{"url", Set(&c->payment_url)},
        {"notify_url", Set(&c->payment_notify_url)},
        {"poll_ms", Set(&c->payment_poll_ms)},
        {"late_poll_ms", Set(&c->payment_late_poll_ms)}}},
      {"wallet", {{"url", Set(&c->wallet_url)}}},
      {"reward", {{"url", Set(&c->reward_url)}}},
      {"social", {{"url", Set(&c->social_url)}}},
      {"async",
       {{"in_process", Set(&c->async_in_process)},
        {"workers", Set(&c->async_workers)},
        {"lease_batch_max", Set(&c->async_lease_batch_max)},
        {"lease_ms", Set(&c->async_lease_ms)},
        {"idle_poll_ms", Set(&c->async_idle_poll_ms)},
        {"call_deadline_ms", Set(&c->async_call_deadline_ms)},
        {"retry_base_ms", Set(&c->async_retry_base_ms)},
        {"retry_max_ms", Set(&c->async_retry_max_ms)},
        {"failed_after_attempts", Set(&c->async_failed_after_attempts)},
        {"stuck_after_ms", Set(&c->async_stuck_after_ms)},
        {"stuck_scan_interval_ms", Set(&c->async_stuck_scan_interval_ms)},
        {"queue", Set(&c->async_queue)},
        {"relay_interval_ms", Set(&c->async_relay_interval_ms)},
        {"relay_batch_max", Set(&c->async_relay_batch_max)},
        {"republish_after_ms", Set(&c->async_republish_after_ms)},
        {"stream_backlog_max", Set(&c->async_stream_backlog_max)}}},
      {"recon", {{"interval_ms", Set(&c->recon_interval_ms)}}},
      {"subsidy", {{"mode", Set(&c->subsidy_mode)}}},
      {"redis",
       {{"url", Set(&c->redis_url)},
        {"pool_size", Set(&c->redis_pool_size)},
        {"deadline_ms", Set(&c->redis_deadline_ms)}}},
      {"secrets",
       {{"auth", Set(&c->auth_secret)},
        {"payment", Set(&c->payment_secret)},
        {"reward", Set(&c->reward_secret)}}},
      {"rng", {{"seed", Set(&c->rng_seed)}}},
  };
}

Status Bad(const std::string& path, const YAML::Mark& mark, const std::string& what) {
  return InvalidArgument("bad_config", path + ":" + std::to_string(mark.line + 1) + ": " + what);
}

Status Range(bool ok, const std::string& what) {
  return ok ? Status::Ok() : InvalidArgument("bad_config", what);
}

}  // namespace

Status LoadConfigFile(const std::string& path, ServerConfig* config) {
  Result<YAML::Node> loaded = LoadYamlFile(path);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node& root = *loaded;
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Bad(path, root.Mark(), "expected a mapping of sections");
  auto schema = Schema(config);
  for (const auto& section : root) {
    std::string name = section.first.as<std::string>();
    auto known = schema.find(name);
    if (known == schema.end())
      return Bad(path, section.first.Mark(), "unknown section '" + name + "'");
    if (!section.second.IsMap())
      return Bad(path, section.second.Mark(), name + ": expected a mapping");
    for (const auto& entry : section.second) {
      std::string key = entry.first.as<std::string>();
      auto setter = known->second.find(key);
      if (setter == known->second.end()) {
        return Bad(path, entry.first.Mark(), "unknown key '" + name + "." + key + "'");
      }
      try {
        setter->second(entry.second);
      } catch (const YAML::Exception&) {
        return Bad(path, entry.second.Mark(), "wrong type for '" + name + "." + key + "'");
      }
    }
  }
  return Status::Ok();
}

void ResolveSecrets(ServerConfig* c) {
  if (c->auth_secret.empty()) {
    if (const char* env = std::getenv("RP_AUTH_SECRET")) c->auth_secret = env;
  }
  if (c->payment_secret.empty()) {
    if (const char* env = std::getenv("RP_PAYMENT_SECRET")) c->payment_secret = env;
  }
  if (c->reward_secret.empty()) {
    if (const char* env = std::getenv("RP_REWARD_SECRET")) c->reward_secret = env;
  }
}

Status FinishConfig(ServerConfig* c) {
  ResolveSecrets(c);
  for (std::string* url : {&c->payment_url, &c->wallet_url, &c->reward_url, &c->social_url}) {
    if (url->empty()) *url = c->mocks_url;
  }
  for (Status s : {
           Range(c->auth_secret.size() >= 16,
                 "auth secret missing or shorter than 16 bytes "
                 "(secrets.auth or RP_AUTH_SECRET)"),
           Range(c->payment_secret.size() >= 16,
                 "payment secret missing or shorter than 16 bytes "
                 "(secrets.payment or RP_PAYMENT_SECRET)"),
           Range(c->port >= 0 && c->port <= 65535, "server.port must be 0..65535"),
           Range(c->threads >= 1 && c->threads <= 256, "server.threads must be 1..256"),
           Range(c->body_bytes_max >= 1024 && c->body_bytes_max <= (1 << 24),
                 "server.body_bytes_max must be 1 KiB..16 MiB"),
           Range(c->synchronous == "FULL" || c->synchronous == "NORMAL",
                 "ledger.synchronous must be FULL or NORMAL"),
           Range(
               c->writer_queue_max >= 1 && c->writer_batch_max >= 1 && c->writer_batch_max <= 10000,
               "ledger.writer_queue_max >= 1 and writer_batch_max 1..10000"),
           Range(c->read_connections >= 1 && c->read_connections <= 64,
                 "ledger.read_connections must be 1..64"),
           Range(c->claim_scheme == "db_lock" || c->claim_scheme == "batched" ||
                     c->claim_scheme == "mem_lock" || c->claim_scheme == "presplit",
                 "claim.scheme must be one of: db_lock, batched, mem_lock, presplit"),
           Range((c->claim_scheme != "mem_lock" && c->claim_scheme != "presplit") ||
                     !c->redis_url.empty(),
                 "claim.scheme mem_lock and presplit need redis.url (or --redis)"),
           Range(c->async_queue == "outbox" ||
                     (c->async_queue == "redis_streams" && !c->redis_url.empty()),
                 "async.queue must be outbox, or redis_streams with redis.url set"),
           Range(c->async_relay_interval_ms >= 1 && c->async_relay_batch_max >= 1 &&
                     c->async_relay_batch_max <= 10000 && c->async_republish_after_ms >= 100 &&
                     c->async_stream_backlog_max >= 1,
                 "async.relay_interval_ms, relay_batch_max (1..10000), republish_after_ms "
                 "(>= 100) and stream_backlog_max must be positive"),
           Range(c->redis_pool_size >= 1 && c->redis_pool_size <= 256 &&
                     c->redis_deadline_ms >= 1 && c->redis_deadline_ms <= 10000,
                 "redis.pool_size must be 1..256 and redis.deadline_ms 1..10000"),
           Range(c->claim_batch_max >= 1 && c->claim_batch_max <= 10000,
                 "claim.batch_max must be 1..10000"),
           Range(c->claim_redis_reset_max >= 0 && c->claim_redis_reset_max <= 10000000,
                 "claim.redis_reset_max must be 0..10000000"),
           Range(c->packet_ttl_s >= 1 && c->packet_ttl_s <= 30 * 86400,
                 "packet.ttl_s must be 1..2592000"),
           Range(c->count_max >= 1 && c->count_max <= 1000000, "packet.count_max must be 1..1e6"),
           Range(c->share_cents_max >= 1 && c->share_cents_max <= 100000000,
                 "packet.share_cents_max must be 1..1e8"),
           Range(c->greeting_chars_max >= 0 && c->greeting_chars_max <= 10000,
                 "packet.greeting_chars_max must be 0..10000"),
           Range(c->scanner_interval_ms >= 10 && c->scanner_batch_max >= 1,
                 "scanner.interval_ms >= 10 and scanner.batch_max >= 1"),
           Range(c->async_workers >= 1 && c->async_workers <= 64 && c->async_lease_batch_max >= 1 &&
                     c->async_lease_ms >= 100 && c->async_idle_poll_ms >= 1 &&
                     c->async_call_deadline_ms >= 10 && c->async_retry_base_ms >= 1 &&
                     c->async_retry_max_ms >= c->async_retry_base_ms &&
                     c->async_failed_after_attempts >= 1 && c->async_stuck_after_ms >= 1 &&
                     c->async_stuck_scan_interval_ms >= 10 && c->payment_poll_ms >= 10 &&
                     c->payment_late_poll_ms >= 0,
                 "async.* values out of range (see docs/api.md)"),
           Range(c->subsidy_mode == "sync" || c->subsidy_mode == "async" ||
                     c->subsidy_mode == "hybrid",
                 "subsidy.mode must be sync, async or hybrid"),
           Range(c->reward_url.empty() || c->reward_secret.size() >= 16,
                 "a reward service needs its secret (secrets.reward or RP_REWARD_SECRET, >= 16 "
                 "bytes)"),
           Range(c->recon_interval_ms == 0 || c->recon_interval_ms >= 100,
                 "recon.interval_ms must be 0 (off) or >= 100"),
       }) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace rp::base
