#include "common/thread_name.h"

#include <pthread.h>

namespace rp {

void NameThisThread(std::string_view name) {
  const std::string cut(name.substr(0, kThreadNameBytesMax));
  (void)pthread_setname_np(pthread_self(), cut.c_str());  // Best effort; see the header.
}

std::string ThisThreadName() {
  char buf[kThreadNameBytesMax + 1] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof buf) != 0) return "";
  return buf;
}

}  // namespace rp
