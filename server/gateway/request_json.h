// Strict JSON request bodies: an object whose fields are read by name and type, with unknown
// fields rejected. Every error is InvalidArgument with a code and a message naming the field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>

#include "common/status.h"

namespace rp::gateway {

class RequestJson {
 public:
  // Parses body as a JSON object. An empty body is accepted as {} when allow_empty is set.
  static Result<RequestJson> Parse(const std::string& body, bool allow_empty = false);

  // Reads a string field. Missing + required -> missing_field; wrong type -> invalid_type.
  Status String(const char* name, std::string* out, bool required);
  // Reads an integer field that fits int64 (no fractions, no floats like 1.0, no overflow).
  Status Int(const char* name, int64_t* out, bool required);
  // After all reads: any field that was not read is an unknown_field error.
  Status RejectUnknown() const;

 private:
  explicit RequestJson(nlohmann::json j) : json_(std::move(j)) {}
  nlohmann::json json_;
  std::set<std::string> read_;
};

}  // namespace rp::gateway
