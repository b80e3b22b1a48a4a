#include "common/redact.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace rp {
namespace {

struct Span {
  size_t begin, end;  // [begin, end) of a password in the text.
};

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// scheme://user:PASSWORD@host. The authority is read up to a space, a quote, '?' or '#' (not
// '/': libpq quotes a URI whose password holds one), so an odd path may be hidden too: better a
// little more than the password than less.
void UserinfoSpans(std::string_view t, std::vector<Span>* out) {
  for (size_t p = t.find("://"); p != std::string_view::npos; p = t.find("://", p + 3)) {
    const size_t start = p + 3;
    size_t end = start;
    while (end < t.size() && !IsSpace(t[end]) && t[end] != '"' && t[end] != '\'' && t[end] != '?' &&
           t[end] != '#') {
      ++end;
    }
    const std::string_view authority = t.substr(start, end - start);
    const size_t at = authority.rfind('@'), colon = authority.find(':');
    if (at != std::string_view::npos && colon != std::string_view::npos && colon + 1 < at) {
      out->push_back({start + colon + 1, start + at});
    }
  }
}

// KEY=PASSWORD for every key ending in "password" (password, sslpassword), any case: as a URL
// query parameter (up to '&' or '#') or in libpq's keyword/value form (up to a space, or a
// single-quoted value with backslash escapes).
void KeywordSpans(std::string_view t, std::vector<Span>* out) {
  std::string lower(t);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::string_view kKey = "password";
  for (size_t p = lower.find(kKey); p != std::string::npos; p = lower.find(kKey, p + 1)) {
    size_t key = p;
    while (key > 0 && (std::isalnum(static_cast<unsigned char>(t[key - 1])) || t[key - 1] == '_')) {
      --key;
    }
    const bool in_query = key > 0 && (t[key - 1] == '?' || t[key - 1] == '&');
    size_t i = p + kKey.size();
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    if (i >= t.size() || t[i] != '=') continue;
    ++i;
    while (!in_query && i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    size_t end = i;
    if (!in_query && i < t.size() && t[i] == '\'') {
      end = i + 1;
      while (end < t.size() && t[end] != '\'') end += t[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, t.size());  // The closing quote too.
    } else {
      while (end < t.size() && !IsSpace(t[end]) &&
             !(in_query && (t[end] == '&' || t[end] == '#'))) {
        ++end;
      }
    }
    if (end > i) out->push_back({i, end});
  }
}

std::vector<Span> SecretSpans(std::string_view t) {
  std::vector<Span> spans;
  UserinfoSpans(t, &spans);
  KeywordSpans(t, &spans);
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (!merged.empty() && s.begin <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Every form in which conninfo's passwords may be echoed: as written, percent-decoded, and as
// libpq understood them (unquoted, unescaped) when it parses.
std::vector<std::string> PasswordsOf(std::string_view conninfo) {
  std::vector<std::string> found;
  for (const Span& s : SecretSpans(conninfo)) {
    const std::string_view raw = conninfo.substr(s.begin, s.end - s.begin);
    found.emplace_back(raw);
    found.push_back(PercentDecoded(raw));
    if (raw.size() >= 2 && raw.front() == '\'') found.emplace_back(raw.substr(1, raw.size() - 2));
  }
  const std::string text(conninfo);
  if (PQconninfoOption* options = PQconninfoParse(text.c_str(), nullptr)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      const std::string_view key = o->keyword;
      if (o->val != nullptr && key.ends_with("password")) found.emplace_back(o->val);
    }
    PQconninfoFree(options);
  }
  std::erase_if(found, [](const std::string& s) { return s.empty(); });
  // Longest first: a password that holds another is hidden whole.
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return found;
}

}  // namespace

std::string RedactSecrets(std::string_view text) {
  std::string out;
  size_t from = 0;
  for (const Span& s : SecretSpans(text)) {
    out.append(text.substr(from, s.begin - from));
    out.append(kRedacted);
    from = s.end;
  }
  out.append(text.substr(from));
  return out;
}

std::string RedactConnectionError(std::string_view message, std::string_view conninfo) {
  std::string out = RedactSecrets(message);
  for (const std::string& password : PasswordsOf(conninfo)) {
    for (size_t p = out.find(password); p != std::string::npos;
         p = out.find(password, p + kRedacted.size())) {
      out.replace(p, password.size(), kRedacted);
    }
  }
  return out;
}

}  // namespace rp
