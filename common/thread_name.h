// Thread names: rp-server's long-lived threads (and every BlockingPool's and Periodic's, in any
// program) name themselves, so that `top -H`, `perf report --sort comm`, `ps -L` and gdb say
// which thread is the ledger writer, an HTTP I/O thread or a pool worker (unnamed, they all read
// "rp-server").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace rp {

// The kernel keeps at most this many bytes of a thread's name.
inline constexpr size_t kThreadNameBytesMax = 15;

// Names the calling thread `name`, cut to kThreadNameBytesMax bytes. Best effort: a name the
// system refuses leaves the old one (a thread name is a label for tools, never load-bearing).
// Thread-safe: it touches only the calling thread.
void NameThisThread(std::string_view name);

// The calling thread's name as the kernel has it ("" when it cannot be read).
std::string ThisThreadName();

// Starts a thread that names itself `name`, then runs fn. The one way our long-lived threads
// start, so none is left unnamed. The caller owns (joins) the thread.
template <typename Fn>
std::thread NamedThread(std::string name, Fn fn) {
  return std::thread([name = std::move(name), fn = std::move(fn)]() mutable {
    NameThisThread(name);
    fn();
  });
}

}  // namespace rp
