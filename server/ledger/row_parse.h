// Reading enum columns back: a value the enum does not know means the file was not written by
// this ledger (or was edited by hand), which is reported as a storage error, never asserted.
#pragma once

#include <string>
#include <string_view>

#include "common/enum_names.h"
#include "common/status.h"

namespace rp::ledger {

template <typename E, size_t N>
Status ParseColumn(const EnumNames<E, N>& names, const std::string& text, std::string_view what,
                   E* out) {
  std::optional<E> v = names.Parse(text);
  if (!v) return Internal("ledger row has an unknown " + std::string(what) + " '" + text + "'");
  *out = *v;
  return Status::Ok();
}

}  // namespace rp::ledger
