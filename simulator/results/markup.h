// Text escaped for XML and HTML (element content and attribute values alike), for the JUnit
// file and the HTML reports. Control characters other than tab and newline are dropped: XML 1.0
// cannot carry them at all. Pure; thread-safe.
#pragma once

#include <string>

namespace rp::sim {

inline std::string EscapeMarkup(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (c >= 0x20 || c == '\t' || c == '\n') out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace rp::sim
