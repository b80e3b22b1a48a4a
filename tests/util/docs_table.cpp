#include "tests/util/docs_table.h"

#include <fstream>
#include <sstream>

namespace rp::testing {

std::string DocsTableMismatch(const std::string& doc_path, const std::string& program,
                              const std::string& declared) {
  std::ifstream in(doc_path);
  if (!in) return doc_path + " cannot be read";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- config-table:begin (" + program + " config) -->\n";
  const std::string end = "<!-- config-table:end -->";
  const size_t from = doc.find(begin);
  const size_t to = from == std::string::npos ? std::string::npos : doc.find(end, from);
  if (to == std::string::npos) return doc_path + " has no " + program + " config table markers";
  std::istringstream documented(doc.substr(from + begin.size(), to - from - begin.size()));
  std::istringstream keys(declared);
  std::string a, b;
  for (int line = 1; std::getline(keys, b); ++line) {
    const bool more = static_cast<bool>(std::getline(documented, a));
    if (!more || a != b) {
      return doc_path + "'s " + program + " config table is out of date (./rp docs regenerates " +
             "it) at row " + std::to_string(line) + ":\n  documented: " + (more ? a : "(missing)") +
             "\n  declared:   " + b;
    }
  }
  if (std::getline(documented, a)) return doc_path + " documents a key no longer declared: " + a;
  return "";
}

}  // namespace rp::testing
