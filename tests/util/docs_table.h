// The configuration tables in the docs are the ones the programs print (`rp-server config`,
// `rp-mock config`), between markers `./rp docs` rewrites. Thread-compatible.
#pragma once

#include <string>

namespace rp::testing {

// "" when the table between "<!-- config-table:begin (<program> config) -->" and
// "<!-- config-table:end -->" in doc_path is exactly `declared`; else what differs first (the
// row, documented and declared), or that the file or its markers are missing.
std::string DocsTableMismatch(const std::string& doc_path, const std::string& program,
                              const std::string& declared);

}  // namespace rp::testing
