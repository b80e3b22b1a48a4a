#include "common/errors.h"

#include <array>

namespace rp {
namespace {

struct ErrorInfo {
  std::string_view name;
  Code code;
};

constexpr std::array kErrors = {ErrorInfo{"", Code::kOk},
#define RP_ERROR_INFO(e, name, code) ErrorInfo{name, Code::code},
                                RP_ERRORS(RP_ERROR_INFO)
#undef RP_ERROR_INFO
};

const ErrorInfo& InfoOf(Error e) {
  const auto i = static_cast<size_t>(e);
  return i < kErrors.size() ? kErrors[i] : kErrors[static_cast<size_t>(Error::kInternal)];
}

}  // namespace

std::string_view ErrorName(Error e) {
  return InfoOf(e).name;
}

Code ErrorClass(Error e) {
  return InfoOf(e).code;
}

Error ErrorByName(std::string_view name) {
  for (size_t i = 1; i < kErrors.size(); ++i) {
    if (kErrors[i].name == name) return static_cast<Error>(i);
  }
  return Error::kNone;
}

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kRequestTimeout:
      return 408;
    case Code::kConflict:
      return 409;
    case Code::kGone:
      return 410;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kTooManyRequests:
      return 429;
    case Code::kHeaderTooLarge:
      return 431;
    case Code::kNotImplemented:
      return 501;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace rp
