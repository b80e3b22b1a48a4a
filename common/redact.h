// Redaction: passwords hidden before a URL, a connection string or a message that echoes one is
// printed (logs, error messages, command output). The one place that knows where a password
// sits in these texts; every program prints such texts through it. Thread-safe; no state.
#pragma once

#include <string>
#include <string_view>

namespace rp {

// What stands in for a hidden password.
inline constexpr std::string_view kRedacted = "***";

// `text` with every password it holds replaced by kRedacted, everything else kept:
//   - URL userinfo:             postgresql://user:PASSWORD@host/db, http://user:PASSWORD@host
//   - a query parameter:        postgresql://user@host/db?password=PASSWORD&sslmode=require
//   - libpq's keyword/value form: host=h password=PASSWORD dbname=d, password = 'PASS WORD'
// (and sslpassword, any key ending in "password"). `text` may be a URL, a connection string or
// a message that quotes one somewhere inside it (libpq echoes a URI it cannot parse).
std::string RedactSecrets(std::string_view text);

// A message about connecting with `conninfo` (libpq's, say), redacted: RedactSecrets(message),
// and also every password `conninfo` holds wherever it appears in the message verbatim (libpq
// quotes a fragment it cannot parse, which may be the password alone).
std::string RedactConnectionError(std::string_view message, std::string_view conninfo);

}  // namespace rp
