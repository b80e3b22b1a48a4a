// EnumNames: the stable text names of a small enum (states, kinds), in one table per enum, so a
// state is compared as an enum everywhere and turned into text only where it is stored or sent.
// Constexpr and allocation-free; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace rp {

// names[i] is the name of the enumerator with value i; enumerators are 0..N-1.
template <typename E, size_t N>
struct EnumNames {
  std::array<std::string_view, N> names;

  constexpr std::string_view Name(E e) const {
    const auto i = static_cast<size_t>(e);
    return i < N ? names[i] : std::string_view("?");
  }
  constexpr std::optional<E> Parse(std::string_view text) const {
    for (size_t i = 0; i < N; ++i) {
      if (names[i] == text) return static_cast<E>(i);
    }
    return std::nullopt;
  }
};

// True when rows[i].id is the enumerator with value i for every row: a table of rows (one per
// enumerator, each naming its own) that can be indexed by the enum. For a static_assert.
template <typename Row, size_t N>
constexpr bool RowsInEnumOrder(const std::array<Row, N>& rows) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(rows[i].id) != i) return false;
  }
  return true;
}

}  // namespace rp
