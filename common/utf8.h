// UTF-8 well-formedness (RFC 3629: shortest forms, no surrogates, at most U+10FFFF), for the
// inputs that must be text: greetings, scenario files. Thread-safe; no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rp {

// The code points of s, or nullopt when s is not well-formed UTF-8.
std::optional<std::u32string> DecodeUtf8(std::string_view s);

// The offset of the first byte of s that does not start a well-formed sequence; npos if none.
size_t FirstInvalidUtf8(std::string_view s);

}  // namespace rp
