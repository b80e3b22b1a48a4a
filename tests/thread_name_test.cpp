// Thread names: a long name is cut to what the kernel keeps, and the threads BlockingPool and
// Periodic start carry the names they were given (what `top -H` and `perf --sort comm` show).
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "common/blocking_pool.h"
#include "common/periodic.h"
#include "common/thread_name.h"

namespace rp {
namespace {

TEST(ThreadName, ALongNameIsCutToWhatTheKernelKeeps) {
  std::string seen;
  std::thread([&] {
    NameThisThread("rp-a-name-longer-than-fifteen-bytes");
    seen = ThisThreadName();
  }).join();
  EXPECT_EQ(seen, "rp-a-name-longe");
  EXPECT_EQ(seen.size(), kThreadNameBytesMax);
}

TEST(ThreadName, APoolsThreadsCarryItsName) {
  BlockingPool pool(2, 4, "social");
  std::promise<std::string> name;
  ASSERT_TRUE(pool.Submit([&] { name.set_value(ThisThreadName()); }).ok());
  EXPECT_EQ(name.get_future().get(), "rp-social");
}

TEST(ThreadName, APeriodicTasksThreadCarriesItsName) {
  std::promise<std::string> name;
  bool once = false;
  Periodic task("rp-recon", [&] {
    if (!once) name.set_value(ThisThreadName());
    once = true;
    return int64_t{60'000};
  });
  task.Start(0);
  EXPECT_EQ(name.get_future().get(), "rp-recon");
  task.Stop();
}

}  // namespace
}  // namespace rp
