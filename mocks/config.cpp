#include "mocks/config.h"

#include <yaml-cpp/yaml.h>

#include "common/errors.h"
#include "common/yaml_json.h"

namespace rp::mock {
namespace {

constexpr int64_t kSecretBytesMin = 16;

// A YAML list whose entries parse is called with, as JSON (the admin API's own parsers).
template <typename T, typename Parse>
options::Registry::StructuredParser ListOf(std::vector<T>* out, Parse parse) {
  return [out, parse](const YAML::Node& node, std::string_view file) -> Status {
    const auto at = [&file](const YAML::Node& n) {
      return std::string(file) + ":" + std::to_string(n.Mark().line + 1) + ": ";
    };
    if (!node.IsSequence()) return Status(Error::kBadConfig, at(node) + "expected a list");
    for (const auto& entry : node) {
      Result<T> parsed = parse(YamlToJson(entry));
      if (!parsed.ok()) return Status(Error::kBadConfig, at(entry) + parsed.status().message());
      out->push_back(*parsed);
    }
    return Status::Ok();
  };
}

}  // namespace

void Declare(options::Registry& r, MockConfig* c) {
  r.Int("server.port", &c->port)
      .Range(0, 65535)
      .Flag("--port")
      .Help("listen port; 0 picks a free one");
  r.Int("server.threads", &c->threads)
      .Range(4, 1024)
      .Flag("--threads")
      .Help("handler threads: bound concurrent requests, hanging ones included");
  r.String("data.dir", &c->data_dir)
      .Flag("--data-dir")
      .Help("where payment.db, wallet.db and reward.db live (empty: a new folder under /tmp)");
  r.Uint("rng.seed", &c->seed)
      .Flag("--seed")
      .Help("seed of every random decision (replayable runs)");
  r.String("secrets.payment", &c->payment_secret)
      .Secret()
      .Env("RP_PAYMENT_SECRET")
      .Help("HMAC key of payment callbacks (>= 16 bytes)");
  r.String("secrets.reward", &c->reward_secret)
      .Secret()
      .Env("RP_REWARD_SECRET")
      .Help("HMAC key of subsidy tokens (>= 16 bytes)");
  r.Int("social.follow_percent", &c->follow_percent)
      .Range(0, 100)
      .Unit("%")
      .Help("share of user pairs where one follows the other (a seeded function of the pair)");
  r.Int("reward.subsidy_ttl_s", &c->subsidy_ttl_s)
      .Range(1, 31'536'000)
      .Unit("s")
      .Help("how long a granted subsidy may be used");
  r.Structured("switches", "fault switches set at start, as POST /admin/switches (docs/mocks.md)",
               ListOf(&c->switches, ParseSwitch));
  r.Structured("rounds", "B2C rain rounds created at start, as POST /admin/rounds",
               ListOf(&c->rounds, ParseRound));
  r.Rule([c] { return static_cast<int64_t>(c->payment_secret.size()) >= kSecretBytesMin; },
         "payment secret missing or shorter than 16 bytes (secrets.payment or RP_PAYMENT_SECRET)");
  r.Rule([c] { return static_cast<int64_t>(c->reward_secret.size()) >= kSecretBytesMin; },
         "reward secret missing or shorter than 16 bytes (secrets.reward or RP_REWARD_SECRET)");
}

}  // namespace rp::mock
