#include "common/utf8.h"

#include <utility>

namespace rp {
namespace {

// The sequence at s[i]: its code point and length, or a length of 0 when it is not well-formed.
std::pair<char32_t, size_t> DecodeAt(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const size_t len = b0 < 0x80         ? 1
                     : (b0 >> 5) == 6  ? 2
                     : (b0 >> 4) == 14 ? 3
                     : (b0 >> 3) == 30 ? 4
                                       : 0;
  if (len == 0 || i + len > s.size()) return {0, 0};
  char32_t c = len == 1 ? b0 : b0 & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0, 0};
    c = (c << 6) | (b & 0x3f);
  }
  static constexpr char32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kShortest[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return {0, 0};
  return {c, len};
}

}  // namespace

std::optional<std::u32string> DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto [c, len] = DecodeAt(s, i);
    if (len == 0) return std::nullopt;
    out += c;
    i += len;
  }
  return out;
}

size_t FirstInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = DecodeAt(s, i).second;
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace rp
