// A ledger whose disk fills up, on a small filesystem made for the test (a tmpfs mounted in
// the test's folder): writes get a clear 503 storage_full, never a 500 or a half-written
// record; reads keep working; every acknowledged claim stays; and writes succeed again once
// space returns (the filesystem grown in place).
//
// A disk whose fsync fails (tests/support/faulty_disk.h: injected in SQLite's VFS, since a
// container cannot make the kernel's fsync fail): the write in flight gets 503 storage_failed
// (outcome unknown), the server stops taking writes until restarted — even once the disk is
// healthy again — says so in /healthz and /metrics, serves reads, and after a restart every
// acknowledged claim is there and the unknown one settles exactly once.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/faulty_disk.h"
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

// Sends a paid packet of `shares` shares; its id, or 0 (the failure recorded).
int64_t PaidPacket(Client& c, const std::string& order_no, int shares) {
  Reply sent = c.SendPacket(1, order_no, 1000, shares);
  EXPECT_EQ(sent.status, 201) << sent.raw;
  if (sent.status != 201) return 0;
  Reply paid = c.Pay(sent.body["pay_order_no"], "paid", 1000);
  EXPECT_EQ(paid.status, 200) << paid.raw;
  return paid.status == 200 ? sent.body["packet_id"].get<int64_t>() : 0;
}

TEST(FailedFsync, StopsWritesUntilRestartServesReadsAndKeepsEveryAcknowledgedClaim) {
  if (OnPostgres()) {
    GTEST_SKIP() << "PostgreSQL handles its own failed fsyncs (it crashes, then recovers from "
                    "its WAL); the server sees a database restart";
  }
  TempDir dir;
  const std::string ledger = dir.File("ledger.db");
  auto config = [&] {
    ServerConfig c = TestConfig(dir);
    c.ledger = LedgerFor(ledger);
    return c;
  };
  std::vector<Acked> acked;
  int64_t packet = 0;
  constexpr int64_t kUnknownUser = 6000;  // The claim whose fsync fails.
  {
    FaultyDisk disk;  // Outlives the server: its connections use the faulty VFS.
    InProcessServer server(config());
    ASSERT_NE(server.port, 0);
    Client c(server.port);
    packet = PaidPacket(c, "fsync-before", 10);
    ASSERT_NE(packet, 0);
    for (int64_t u = 5000; u < 5005; ++u) {
      Reply r = c.Claim(packet, u);
      ASSERT_EQ(r.status, 201) << r.raw;
      acked.push_back({packet, u, r.body["claim_id"]});
    }
    ASSERT_GT(disk.real_fsyncs(), 0) << "the ledger's commits did not go through the faulty disk";

    disk.ArmFsyncFailure();
    Reply unknown = c.Claim(packet, kUnknownUser);
    EXPECT_EQ(unknown.status, 503) << unknown.raw;
    EXPECT_EQ(unknown.body["error"]["code"], "storage_failed") << unknown.raw;
    EXPECT_NE(unknown.raw.find("outcome is unknown"), std::string::npos) << unknown.raw;
    EXPECT_GT(disk.failed_fsyncs(), 0);

    // The disk is healthy again, and still nothing is written until a restart.
    disk.DisarmFsyncFailure();
    const int64_t fsyncs_before = disk.real_fsyncs();
    Reply send = c.SendPacket(1, "fsync-after", 1000, 10);
    EXPECT_EQ(send.status, 503) << send.raw;
    EXPECT_EQ(send.body["error"]["code"], "storage_failed") << send.raw;
    EXPECT_NE(send.raw.find("stopped taking writes"), std::string::npos) << send.raw;
    Reply claim = c.Claim(packet, 6001);
    EXPECT_EQ(claim.status, 503) << claim.raw;
    Reply health = c.Get("/healthz", 0);
    EXPECT_EQ(health.status, 503) << health.raw;
    EXPECT_EQ(health.body["status"], "writes_stopped") << health.raw;
    EXPECT_EQ(health.body["ledger"]["writable"], false) << health.raw;
    Reply metrics = c.Get("/metrics", 0);
    EXPECT_NE(metrics.raw.find("\nrp_ledger_writes_stopped 1\n"), std::string::npos);
    // Reads are served, from what was committed.
    Reply read = c.Get("/v1/packets/" + std::to_string(packet), 1);
    EXPECT_EQ(read.status, 200) << read.raw;
    EXPECT_GE(read.body["claimed_count"].get<int64_t>(), 5) << read.raw;
    EXPECT_EQ(disk.real_fsyncs(), fsyncs_before) << "a write reached the disk after the stop";
  }
  // Restarted on a healthy disk: the ledger balances, every acknowledged claim is there, and the
  // claim whose outcome was unknown settles exactly once when retried.
  EXPECT_TRUE(LedgerConserves(ledger));
  InProcessServer reopened(config());
  Client c(reopened.port);
  EXPECT_EQ(c.Get("/healthz", 0).status, 200);
  for (const Acked& a : acked) {
    Reply r = c.Claim(a.packet_id, a.user_id);
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.body["claim_id"], a.claim_id);
  }
  Reply retried = c.Claim(packet, kUnknownUser);
  EXPECT_TRUE(retried.status == 200 || retried.status == 201) << retried.raw;
  Reply again = c.Claim(packet, kUnknownUser);
  EXPECT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["claim_id"], retried.body["claim_id"]);
  EXPECT_NE(PaidPacket(c, "fsync-restarted", 10), 0);
  EXPECT_TRUE(LedgerConserves(ledger));
}

}  // namespace
}  // namespace rp::testing
