// A ledger whose disk fills up, on a small filesystem made for the test (a tmpfs mounted in
// the test's folder): writes get a clear 503 storage_full, never a 500 or a half-written
// record; reads keep working; every acknowledged claim stays; and writes succeed again once
// space returns (the filesystem grown in place).
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace rp::testing {
namespace {

// A tmpfs of size_kb at dir/path; unmounted when destroyed.
class SmallDisk {
 public:
  SmallDisk(const std::string& path, int size_kb) : path_(path) {
    std::filesystem::create_directories(path_);
    const std::string options = "size=" + std::to_string(size_kb) + "k";
    mounted_ = mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool Grow(int size_kb) {
    const std::string options = "size=" + std::to_string(size_kb) + "k";
    return mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

struct Acked {
  int64_t packet_id = 0, user_id = 0, claim_id = 0;
};

TEST(DiskFull, WritesGet503ReadsWorkNothingAcknowledgedIsLostAndSpaceReturning) {
  if (OnPostgres()) GTEST_SKIP() << "the PostgreSQL ledger's disk is the database server's";
  TempDir dir;
  SmallDisk disk(dir.File("disk"), 2048);
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "): needs root";
  }
  const std::string ledger = dir.File("disk") + "/ledger.db";
  ServerConfig config = TestConfig(dir);
  config.ledger = LedgerFor(ledger);
  std::vector<Acked> acked;
  std::vector<int64_t> packets;
  int full = 0, other_errors = 0;
  {
    InProcessServer server(config);
    ASSERT_NE(server.port, 0);
    Client c(server.port);
    // Packets with long greetings and many claims, until the disk refuses (bounded).
    for (int i = 0; i < 2000 && full < 20; ++i) {
      Reply sent = c.SendPacket(1, "full-" + std::to_string(i), 1000, 10);
      if (sent.status == 503) {
        EXPECT_EQ(sent.body["error"]["code"], "storage_full") << sent.raw;
        ++full;
        continue;
      }
      if (sent.status != 201) {
        ++other_errors;
        ADD_FAILURE() << "send: " << sent.status << " " << sent.raw;
        continue;
      }
      const int64_t id = sent.body["packet_id"];
      Reply paid = c.Pay(sent.body["pay_order_no"], "paid", 1000);
      if (paid.status == 503) {
        ++full;
        continue;
      }
      ASSERT_EQ(paid.status, 200) << paid.raw;
      packets.push_back(id);
      for (int u = 0; u < 10; ++u) {
        Reply r = c.Claim(id, 5000 + i * 10 + u);
        if (r.status == 201) {
          acked.push_back({id, 5000 + i * 10 + u, r.body["claim_id"]});
        } else if (r.status == 503) {
          EXPECT_EQ(r.body["error"]["code"], "storage_full") << r.raw;
          ++full;
        } else {
          ++other_errors;
          ADD_FAILURE() << "claim: " << r.status << " " << r.raw;
        }
      }
    }
    ASSERT_GT(full, 0) << "the disk never filled up";
    std::printf("the disk filled after %zu packets and %zu claims; %d writes refused with 503\n",
                packets.size(), acked.size(), full);
    EXPECT_EQ(other_errors, 0);
    ASSERT_FALSE(acked.empty());
    // Reads are served from a full disk.
    Reply read = c.Get("/v1/packets/" + std::to_string(packets.front()), 1);
    EXPECT_EQ(read.status, 200) << read.raw;
    EXPECT_EQ(c.Get("/healthz", 0).status, 200);
    // Space returns: writes are accepted again, without a restart.
    ASSERT_TRUE(disk.Grow(16 * 1024));
    Reply again = c.SendPacket(1, "after-space-returned", 1000, 10);
    EXPECT_EQ(again.status, 201) << again.raw;
  }
  // Every acknowledged claim is in the ledger, and the ledger conserves money.
  EXPECT_TRUE(LedgerConserves(ledger));
  InProcessServer reopened([&] {
    ServerConfig c2 = TestConfig(dir);
    c2.ledger = LedgerFor(ledger);
    return c2;
  }());
  Client c(reopened.port);
  for (const Acked& a : acked) {
    Reply r = c.Claim(a.packet_id, a.user_id);  // A replay answers with the original claim.
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.body["claim_id"], a.claim_id);
  }
}

}  // namespace
}  // namespace rp::testing
