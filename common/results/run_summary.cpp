#include "common/results/run_summary.h"

#include "common/errors.h"

namespace rp::results {

nlohmann::json ToJson(const RunSummary& s) {
  nlohmann::json j = s;
  if (s.exact.is_null()) j.erase("exact");
  return j;
}

Result<RunSummary> FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status(Error::kBadResults, "summary.json is not a JSON object");
  if (j.value("schema", std::string(kSummarySchema)) != kSummarySchema) {
    return Status(Error::kBadResults,
                  "summary.json is not an rp-sim summary (schema " + j["schema"].dump() + ")");
  }
  try {
    RunSummary s = j.get<RunSummary>();
    const nlohmann::json& v = j.contains("verification") ? j["verification"] : nlohmann::json();
    if (!v.is_object() || !v.contains("recon_answered")) s.verification.recon_answered = true;
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status(Error::kBadResults, std::string("summary.json: ") + e.what());
  }
}

}  // namespace rp::results
