// The core module alone (this test links rp_core and what it is built on): the remembered final
// packets and receiving ranges, the scheme registry against the one list of names, the boundary
// checks of a send and the claimability rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "common/claim_schemes.h"
#include "server/core/claim_tx.h"
#include "server/core/final_packets.h"
#include "server/core/receiving_ranges.h"
#include "server/core/scheme_registry.h"
#include "server/core/send.h"

namespace rp::core {
namespace {

TEST(FinalPacketsTest, RefusesOnlyNonClaimersOfRememberedFinalPackets) {
  FinalPackets final(100);
  EXPECT_TRUE(final.Refusal(1, 7).ok());  // Not remembered: the scheme decides.
  final.Remember(1, ledger::PacketState::kFinished, {7, 8});
  final.Remember(2, ledger::PacketState::kExpired, {});
  final.Remember(3, ledger::PacketState::kActive, {});  // Not final: never remembered.
  EXPECT_TRUE(final.Refusal(1, 7).ok());  // A claimer: the ledger answers with the claim.
  EXPECT_TRUE(final.Refusal(1, 9).Is(Error::kSoldOut));
  EXPECT_TRUE(final.Refusal(2, 9).Is(Error::kExpired));
  EXPECT_TRUE(final.Refusal(3, 9).ok());
  EXPECT_EQ(final.entries(), 4u);  // Two packets, two claimers.
}

TEST(FinalPacketsTest, StaysWithinItsBoundForgettingTheLeastRecentlyUsed) {
  FinalPackets final(10);
  final.Remember(1, ledger::PacketState::kFinished, {1, 2, 3});  // 4 entries.
  final.Remember(2, ledger::PacketState::kFinished, {4, 5, 6});  // 8.
  EXPECT_FALSE(final.Refusal(1, 99).ok());  // Packet 1 is now the most recently used.
  final.Remember(3, ledger::PacketState::kFinished, {7, 8, 9});  // Needs 4: packet 2 goes.
  EXPECT_LE(final.entries(), 10u);
  EXPECT_FALSE(final.Refusal(1, 99).ok());
  EXPECT_TRUE(final.Refusal(2, 99).ok());
  EXPECT_FALSE(final.Refusal(3, 99).ok());
  final.Remember(4, ledger::PacketState::kFinished,
                 std::vector<int64_t>(10, 5));  // Larger than the bound: ignored.
  EXPECT_TRUE(final.Refusal(4, 99).ok());
  EXPECT_LE(final.entries(), 10u);
}

TEST(ReceivingRangesTest, RemembersWhatWasReadAndForgetsOnlyOldGenerations) {
  ReceivingRanges ranges(4);                 // Two generations of two packets.
  EXPECT_FALSE(ranges.Find(1).has_value());  // Never read: the caller reads the ledger.
  ranges.Remember(1, {7, ledger::Audience::kFans});
  ranges.Remember(2, {8, ledger::Audience::kPublic});
  ASSERT_TRUE(ranges.Find(1).has_value());
  EXPECT_EQ(ranges.Find(1)->sender_id, 7);
  EXPECT_EQ(ranges.Find(1)->audience, ledger::Audience::kFans);
  ranges.Remember(3, {9, ledger::Audience::kPublic});  // Young was full: 1 and 2 are now old.
  EXPECT_TRUE(ranges.Find(1).has_value());             // Used: back to the young generation.
  ranges.Remember(4, {9, ledger::Audience::kPublic});  // Young full again (3, 1): 2 is forgotten.
  EXPECT_FALSE(ranges.Find(2).has_value());
  EXPECT_TRUE(ranges.Find(1).has_value());
  EXPECT_TRUE(ranges.Find(3).has_value());
  EXPECT_TRUE(ranges.Find(4).has_value());
  for (int64_t id = 10; id < 1000; ++id) ranges.Remember(id, {id, ledger::Audience::kPublic});
  EXPECT_LE(ranges.size(), 4u);
}

TEST(SchemeRegistryTest, EveryNamedSchemeHasAFactoryAndNoOther) {
  std::vector<std::string_view> factories = SchemesWithFactories();
  ASSERT_EQ(factories.size(), kClaimSchemes.size());
  for (const ClaimSchemeInfo& s : kClaimSchemes) {
    EXPECT_NE(std::find(factories.begin(), factories.end(), s.name), factories.end()) << s.name;
  }
}

SendRequest ValidC2c() {
  return {"o-1", "c2c", 1000, 10, "random", "public", "v1", "", ""};
}

TEST(ValidateSendTest, EveryFieldIsCheckedAndNamed) {
  const PacketOptions limits;
  EXPECT_TRUE(ValidateSend(ValidC2c(), limits).ok());
  struct Case {
    void (*mutate)(SendRequest&);
    Error error;
  };
  const Case cases[] = {
      {[](SendRequest& r) { r.order_no = ""; }, Error::kInvalidOrderNo},
      {[](SendRequest& r) { r.order_no = "a b"; }, Error::kInvalidOrderNo},
      {[](SendRequest& r) { r.kind = "c3c"; }, Error::kUnsupportedKind},
      {[](SendRequest& r) { r.subsidy_token = "t"; }, Error::kInvalidSubsidyToken},
      {[](SendRequest& r) { r.count = 0; }, Error::kInvalidCount},
      {[](SendRequest& r) { r.count = 10001; }, Error::kInvalidCount},
      {[](SendRequest& r) { r.total_cents = 9; }, Error::kInvalidAmount},
      {[](SendRequest& r) { r.total_cents = 10 * 20000 + 1; }, Error::kInvalidAmount},
      {[](SendRequest& r) { r.split = "fair"; }, Error::kInvalidSplit},
      {[](SendRequest& r) { r.split = "even", r.total_cents = 1001; }, Error::kInvalidAmount},
      {[](SendRequest& r) { r.audience = "world"; }, Error::kInvalidAudience},
      {[](SendRequest& r) { r.video_id = std::string(65, 'v'); }, Error::kInvalidVideoId},
      {[](SendRequest& r) { r.greeting.assign(3, '\x01'); }, Error::kInvalidGreeting},
  };
  for (const Case& c : cases) {
    SendRequest r = ValidC2c();
    c.mutate(r);
    Status s = ValidateSend(r, limits);
    EXPECT_TRUE(s.Is(c.error)) << s.ToString();
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
  }
}

// docs/api.md: a greeting holds no control characters — nor, since they hide or reorder what a
// reader sees, line separators and invisible formatting. Each is refused wherever it stands;
// what emoji and scripts need (ZWJ, ZWNJ, variation selectors) is kept.
std::string HexBytes(const std::string& s) {
  std::string out;
  char byte[4];
  for (unsigned char c : s) {
    std::snprintf(byte, sizeof byte, "%02x ", c);
    out += byte;
  }
  return out;
}

TEST(ValidateSendTest, GreetingsRefuseControlsSeparatorsAndInvisibleFormatting) {
  PacketOptions limits;
  const char* refused[] = {
      "\u0085",  // NEL, C1
      "\u0080",
      "\u009b",  // C1 (CSI)
      "\u061c",  // arabic letter mark
      "\u200b",  // zero-width space
      "\u200e",
      "\u200f",  // LRM, RLM
      "\u2028",
      "\u2029",  // line and paragraph separators
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",  // embeddings, overrides, PDF
      "\u2060",
      "\u2064",  // word joiner, invisible plus
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",  // isolates
      "\u206a",
      "\u206f",  // deprecated format controls
      "\ufeff",  // BOM / zero-width no-break space
      "\ufff9",
      "\ufffb",  // interlinear annotation
      "\x7f",
      "\t",
      "\n",
      "\xc2",              // a truncated sequence
      "\xc0\xaf",          // an overlong '/'
      "\xed\xa0\x80",      // a surrogate
      "\xf4\x90\x80\x80",  // beyond U+10FFFF
  };
  for (const char* bad : refused) {
    for (const std::string& greeting :
         {std::string(bad), "hi " + std::string(bad), std::string(bad) + " 新年快乐"}) {
      SendRequest r = ValidC2c();
      r.greeting = greeting;
      Status s = ValidateSend(r, limits);
      EXPECT_TRUE(s.Is(Error::kInvalidGreeting)) << HexBytes(greeting) << ": " << s.ToString();
    }
  }
  for (const char* fine : {"新年快乐", "hello", "👨\u200d👩\u200d👧", "❤\ufe0f", "می\u200cخواهم",
                           "¡Feliz año!", "مرحبا"}) {
    SendRequest r = ValidC2c();
    r.greeting = fine;
    EXPECT_TRUE(ValidateSend(r, limits).ok()) << fine;
  }
}

TEST(CheckClaimableTest, EachStateGetsItsAnswer) {
  ledger::PacketRecord p;
  p.count = 2;
  p.total_cents = 100;
  p.expires_at_ms = 10'000;
  auto verdict = [&](ledger::PacketState state, int64_t now_ms) {
    p.state = state;
    return CheckClaimable(p, now_ms).err();
  };
  EXPECT_EQ(verdict(ledger::PacketState::kActive, 1), Error::kNone);
  EXPECT_EQ(verdict(ledger::PacketState::kAwaitingPayment, 1), Error::kNotClaimable);
  EXPECT_EQ(verdict(ledger::PacketState::kClosed, 1), Error::kNotClaimable);
  EXPECT_EQ(verdict(ledger::PacketState::kActive, 10'000), Error::kExpired);  // Before the scan.
  EXPECT_EQ(verdict(ledger::PacketState::kRefunded, 1), Error::kExpired);
  EXPECT_EQ(verdict(ledger::PacketState::kFinished, 1), Error::kSoldOut);
}

}  // namespace
}  // namespace rp::core
