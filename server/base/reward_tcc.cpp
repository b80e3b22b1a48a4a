#include "server/base/reward_tcc.h"

#include <memory>

#include "common/downstream.h"
#include "server/base/service_client.h"

namespace rp::base {

Status RewardTcc::Step(const std::string& step, const std::string& subsidy_id,
                       const std::string& tx_id) {
  Result<ServiceReply> r = ThreadLocalClient(url_, deadline_ms_, "reward", breakers_)
                               .Post(downstream::TccPath(subsidy_id, step),
                                     downstream::ToJson(downstream::TccRequest{tx_id}));
  if (!r.ok()) return r.status();
  if (r->status == 200 || r->status == 201) return Status::Ok();
  std::string code;
  if (r->body.is_object() && r->body.contains("error")) {
    code = r->body["error"].value("code", "");
  }
  // 404 / 409 / 410 are the service's final word on this subsidy; anything else may pass.
  if (r->status == 404 || r->status == 409 || r->status == 410) {
    return Status(Error::kSubsidyRefused, "reward service refused " + step + " of " + subsidy_id +
                                              ": " +
                                              (code.empty() ? std::to_string(r->status) : code));
  }
  return Status(Error::kRewardUnavailable,
                "reward " + step + " of " + subsidy_id + ": HTTP " + std::to_string(r->status));
}

Status RewardTcc::Try(const std::string& s, const std::string& tx) {
  return Step("try", s, tx);
}
Status RewardTcc::Confirm(const std::string& s, const std::string& tx) {
  return Step("confirm", s, tx);
}
Status RewardTcc::Cancel(const std::string& s, const std::string& tx) {
  return Step("cancel", s, tx);
}

}  // namespace rp::base
