#include "server/gateway/request_json.h"

#include <cmath>
#include <limits>

namespace rp::gateway {

Result<RequestJson> RequestJson::Parse(const std::string& body, bool allow_empty) {
  if (body.empty() && allow_empty) return RequestJson(nlohmann::json::object());
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Error::kInvalidJson, "the body is not valid JSON");
  if (!j.is_object()) return Status(Error::kInvalidJson, "the body must be a JSON object");
  return RequestJson(std::move(j));
}

Status RequestJson::String(const char* name, std::string* out, bool required) {
  read_.insert(name);
  auto it = json_.find(name);
  if (it == json_.end()) {
    return required ? Status(Error::kMissingField, std::string(name) + " is required")
                    : Status::Ok();
  }
  if (!it->is_string()) {
    return Status(Error::kInvalidType, std::string(name) + " must be a string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Status RequestJson::Int(const char* name, int64_t* out, bool required) {
  read_.insert(name);
  auto it = json_.find(name);
  if (it == json_.end()) {
    return required ? Status(Error::kMissingField, std::string(name) + " is required")
                    : Status::Ok();
  }
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status(Error::kInvalidAmount, std::string(name) + " is out of range");
    }
    *out = static_cast<int64_t>(v);
    return Status::Ok();
  }
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return Status::Ok();
  }
  if (it->is_number_float()) {
    // The parser turns integers beyond 64 bits into doubles: call those out of range.
    if (std::abs(it->get<double>()) >= 9.2e18) {
      return Status(Error::kInvalidAmount, std::string(name) + " is out of range");
    }
    return Status(Error::kInvalidType,
                  std::string(name) + " must be an integer (amounts are integer cents)");
  }
  return Status(Error::kInvalidType, std::string(name) + " must be an integer");
}

Status RequestJson::RejectUnknown() const {
  for (const auto& [key, value] : json_.items()) {
    if (!read_.count(key)) return Status(Error::kUnknownField, "unknown field " + key);
  }
  return Status::Ok();
}

}  // namespace rp::gateway
