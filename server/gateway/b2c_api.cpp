// The B2C routes of the API: rain grabs (proxied to the reward service), the merged subsidy
// list, and sending a packet funded by a subsidy. All of them call the reward service, so they
// run on the BlockingPool, never on an HTTP I/O thread.
#include <map>

#include "common/subsidy_token.h"
#include "server/base/service_client.h"
#include "server/core/send.h"
#include "server/gateway/api.h"
#include "server/query/packet_query.h"

namespace rp::gateway {
namespace {

using nlohmann::json;

core::SubsidyGrant GrantOf(const subsidy::TokenClaims& c) {
  return {c.subsidy_id, c.user_id, c.round, c.amount_cents, c.expires_at_s * 1000};
}

Status NoReward() {
  return Unavailable("reward_not_configured", "this server has no reward service (reward.url)");
}

}  // namespace

void Api::SendB2c(const core::SendRequest& req, int64_t user_id, Respond respond) {
  if (d_.b2c == nullptr) return respond(ErrorResponse(NoReward()));
  Result<subsidy::TokenClaims> claims =
      subsidy::VerifyToken(d_.config->reward_secret, req.subsidy_token, d_.clock->NowMs() / 1000);
  if (!claims.ok()) return respond(ErrorResponse(claims.status()));
  core::B2cService* b2c = d_.b2c;
  const core::SubsidyGrant grant = GrantOf(*claims);
  Status s = Offload(respond, [b2c, req, grant, user_id, respond] {
    Result<core::B2cSend> sent = b2c->Send(req, grant, user_id);
    if (!sent.ok()) return respond(ErrorResponse(sent.status()));
    json body = PacketJson(sent->send.packet);
    body["subsidy_id"] = grant.subsidy_id;
    respond(JsonResponse(sent->send.replay ? 200 : 201, body));
  });
  if (!s.ok()) respond(ErrorResponse(s));
}

void Api::Grab(const std::string& round, int64_t user_id, Respond respond) {
  if (d_.b2c == nullptr) return respond(ErrorResponse(NoReward()));
  if (!core::IsToken(round, 64)) {
    return respond(
        ErrorResponse(InvalidArgument("invalid_round", "a round id is [A-Za-z0-9_-]{1,64}")));
  }
  const std::string url = d_.config->reward_url;
  const std::string secret = d_.config->reward_secret;
  const int64_t deadline_ms = d_.config->async_call_deadline_ms;
  core::B2cService* b2c = d_.b2c;
  const Clock* clock = d_.clock;
  Status s = Offload(respond, [=] {
    Result<base::ServiceReply> r =
        base::ThreadLocalClient(url, deadline_ms)
            .Post("/reward/rain/" + round + "/grab", {{"user_id", user_id}});
    if (!r.ok())
      return respond(ErrorResponse(Unavailable("reward_unavailable", r.status().message())));
    if (r->status != 200 && r->status != 201) {
      // The reward service's verdict (budget_exhausted, round_not_found, ...) passes through.
      return respond(r->status >= 500
                         ? ErrorResponse(Unavailable("reward_unavailable", "reward service failed"))
                         : JsonResponse(r->status, r->body));
    }
    Result<subsidy::TokenClaims> c =
        subsidy::VerifyToken(secret, r->body.value("token", ""), clock->NowMs() / 1000);
    if (!c.ok() || c->user_id != user_id) {
      return respond(
          ErrorResponse(Internal("the reward service returned a token we cannot verify")));
    }
    Status recorded = b2c->RecordGrab(GrantOf(*c));
    if (!recorded.ok()) return respond(ErrorResponse(recorded));
    respond(JsonResponse(r->status, r->body));
  });
  if (!s.ok()) respond(ErrorResponse(s));
}

// The reward service's tokens merged with the ledger's records, each subsidy once. When the
// reward service is unreachable the list degrades to the ledger's records ("degraded": true).
void Api::ListSubsidies(int64_t user_id, Respond respond) {
  if (d_.b2c == nullptr) return respond(ErrorResponse(NoReward()));
  const std::string url = d_.config->reward_url;
  const int64_t deadline_ms = d_.config->async_call_deadline_ms;
  query::ReadPool* reads = d_.reads;
  Status s = Offload(respond, [=] {
    std::map<std::string, json> merged;
    Result<base::ServiceReply> r =
        base::ThreadLocalClient(url, deadline_ms)
            .Get("/reward/users/" + std::to_string(user_id) + "/subsidies");
    const bool degraded = !r.ok() || r->status != 200 || !r->body.contains("subsidies");
    if (!degraded) {
      for (const json& x : r->body["subsidies"]) {
        json item = {{"subsidy_id", x.value("subsidy_id", "")},
                     {"round", x.value("round", "")},
                     {"amount_cents", x.value("amount_cents", 0)},
                     {"token", x.value("token", "")},
                     {"expires_at_s", x.value("expires_at_s", 0)},
                     {"state", x.value("state", "issued")},
                     {"in_ledger", false}};
        const std::string id = item["subsidy_id"];
        merged[id] = std::move(item);
      }
    }
    std::vector<core::SubsidyRow> rows;
    Status st =
        reads->With([&](sql::Db& db) { return core::ListSubsidiesOfUser(db, user_id, &rows); });
    if (!st.ok()) return respond(ErrorResponse(st));
    for (const core::SubsidyRow& row : rows) {
      json& item = merged[row.grant.subsidy_id];
      item["subsidy_id"] = row.grant.subsidy_id;
      item["round"] = row.grant.round;
      item["amount_cents"] = row.grant.amount_cents;
      item["expires_at_s"] = row.grant.expires_at_ms / 1000;
      item["state"] = row.state;  // The ledger is the truth once it has the subsidy.
      item["in_ledger"] = true;
      if (row.packet_id != 0) item["packet_id"] = row.packet_id;
    }
    json list = json::array();
    for (auto& [id, item] : merged) list.push_back(std::move(item));
    respond(JsonResponse(200, {{"subsidies", std::move(list)}, {"degraded", degraded}}));
  });
  if (!s.ok()) respond(ErrorResponse(s));
}

}  // namespace rp::gateway
