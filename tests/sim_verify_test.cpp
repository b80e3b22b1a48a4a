// The simulator's verification (what it reads back and how it reads it) and its fault
// vocabulary: the fault-action table, and the campaign that draws timelines from it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include "common/claim_schemes.h"
#include "common/crypto.h"
#include "common/process/redis_process.h"
#include "common/prometheus_text.h"
#include "simulator/engine/load_engine.h"
#include "simulator/exporter/client_metrics.h"
#include "simulator/run/campaign.h"
#include "simulator/run/capacity.h"
#include "simulator/run/run.h"
#include "simulator/run/work_dir.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/histogram.h"
#include "simulator/verify/verify.h"
#include "tests/support/fake_wallet.h"
#include "tests/support/harness.h"

namespace rp::sim {
namespace {

// A server that died (an ASan abort, a crash) must not hold the verification for its whole
// settle wait (ci_regress's is over ten minutes): no answer at all for unreachable_s_max is a
// failed verification that says the server is down.
TEST(Verify, AServerThatAnswersNothingIsReportedDown) {
  Observed observed;
  observed.packets[1] = ObservedPacket{1, "c2c", 7, 100, 1};
  Target target;
  target.port = FreeLoopbackPort();  // Nothing listens there.
  target.auth_secret = std::string(24, 'a');
  target.payment_secret = std::string(24, 'b');
  VerifyOptions options;
  options.settle_wait_s_max = 3600;
  options.unreachable_s_max = 1;
  const VerificationReport report = Verify(observed, target, options);
  EXPECT_FALSE(report.ok);
  ASSERT_FALSE(report.violations.empty());
  EXPECT_NE(report.violations[0].find("the server answered nothing for 1 s"), std::string::npos)
      << report.violations[0];
}

using rp::testing::Client;
using rp::testing::Reply;

// A claim list the server answers degraded is an empty page by design (its others'-luck list is
// switched off), never the ledger's word that the claims are gone. A campaign seed reported 671
// acknowledged claims "lost" that were all in the ledger: the list had degraded under the fault
// load and was read as empty. The verifier reads such a page again until the feature is back.
class VerifyDegraded : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config = rp::testing::TestConfig(dir_);
    config.downstream.wallet_url = wallet_.url();
    config.downstream.payment_url = wallet_.url();
    server_ = std::make_unique<rp::testing::InProcessServer>(config);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
    Reply sent = client_->SendPacket(7, "degraded-list", 300, 3);
    ASSERT_EQ(sent.status, 201);
    wallet_.MarkPaid(sent.body["pay_order_no"], 300);  // Reconciliation finds the payment.
    ASSERT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", 300).status, 200);
    const int64_t packet = sent.body["packet_id"];
    observed_.packets[packet] = ObservedPacket{packet, "c2c", 7, 300, 3};
    for (int64_t user = 20; user < 22; ++user) {
      Reply won = client_->Claim(packet, user);
      ASSERT_EQ(won.status, 201);
      observed_.AddClaim({packet, user, won.body["claim_id"], won.body["amount_cents"]}, false);
      observed_.Record({"claim", 0, 1, 201, packet, user, won.body["claim_id"].get<int64_t>(),
                        won.body["amount_cents"].get<int64_t>()});
    }
    target_.port = server_->port;
    target_.auth_secret = rp::testing::kAuthSecret;
    target_.payment_secret = rp::testing::kPaymentSecret;
    options_.settle_wait_s_max = 2;  // The packet stays active, its expiry a day ahead: settled.
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
  }
  int Degrade(const std::string& mode) {
    const std::string token =
        auth::MintAdminToken(rp::testing::kAuthSecret, std::time(nullptr) + 600);
    const nlohmann::json body = {{"feature", "others_luck"}, {"mode", mode}};
    return client_
        ->Send("PUT", "/admin/degrade", body.dump(), {{"Authorization", "Bearer " + token}})
        .status;
  }

  rp::testing::FakeWallet wallet_;
  rp::testing::TempDir dir_;
  std::unique_ptr<rp::testing::InProcessServer> server_;
  std::unique_ptr<Client> client_;
  Observed observed_;
  Target target_;
  VerifyOptions options_;
};

TEST_F(VerifyDegraded, APageAnsweredDegradedIsReadAgainOnceTheFeatureIsBack) {
  ASSERT_EQ(Degrade("off"), 200);  // Switched off: its page is the degraded one.
  // Back after a second, while the verifier is waiting (the feature's own recovery, here by hand).
  std::thread restore([this] {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // The outage the verifier waits out.
    Client admin(server_->port);
    const std::string token =
        auth::MintAdminToken(rp::testing::kAuthSecret, std::time(nullptr) + 600);
    const nlohmann::json body = {{"feature", "others_luck"}, {"mode", "auto"}};
    EXPECT_EQ(
        admin.Send("PUT", "/admin/degrade", body.dump(), {{"Authorization", "Bearer " + token}})
            .status,
        200);
  });
  const VerificationReport report = Verify(observed_, target_, options_);
  restore.join();
  EXPECT_TRUE(report.ok) << (report.violations.empty() ? "" : report.violations[0]);
  EXPECT_EQ(report.claims_checked, 2);
  EXPECT_EQ(report.packets_unreadable, 0);
}

TEST_F(VerifyDegraded, AListThatStaysDegradedIsOneUnreadablePacketNotLostClaims) {
  ASSERT_EQ(Degrade("off"), 200);  // Switched off: its page is the degraded one.
  options_.degraded_wait_s_max = 1;
  const VerificationReport report = Verify(observed_, target_, options_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.packets_unreadable, 1);
  ASSERT_EQ(report.violations_total, 1);
  EXPECT_NE(report.violations[0].find("unreadable: the server answered its claim list degraded "
                                      "(others_luck switched off)"),
            std::string::npos)
      << report.violations[0];
}

// A campaign seed's scenario: deterministic, an ordinary scenario file rp-sim reads back, with
// its faults paired (every stop started again, every pause resumed, every switch reset) and
// never two at once on one component; different seeds draw different timelines.
// A failing seed's replay line repeats the flags that shaped its run: the file keeps the base's
// unscaled timeline, so without --duration a replay would run another plan.
TEST(Campaign, ReplayLineRepeatsTheFlagsThatShapedTheRun) {
  RunOptions run;
  EXPECT_EQ(CampaignReplayFlags(run), "");
  run.duration_s = 8;
  run.ledger = "postgres";
  run.instances = 2;
  const std::string flags = CampaignReplayFlags(run);
  EXPECT_EQ(flags, " --duration 8 --ledger postgres --instances 2");
  auto text = DrawCampaignScenario(RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", 3, run);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("--campaign-seed 3 --duration 8 --ledger postgres --instances 2 (or run "
                       "this file with --duration 8 --ledger postgres --instances 2)"),
            std::string::npos)
      << *text;
}

// A campaign under one scheme (--claim-scheme) draws every seed's load and faults as the
// campaign without it does; only the scheme differs, and the replay line names it.
TEST(Campaign, OneSchemeChangesTheSchemeAndNothingElseOfASeed) {
  const std::string base = RP_SOURCE_DIR "/tests/data/sim_smoke.yaml";
  RunOptions free_draw, one;
  one.claim_scheme = "cond_update";
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Result<CampaignDraw> a = DrawCampaign(base, seed, free_draw);
    Result<CampaignDraw> b = DrawCampaign(base, seed, one);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->fault_kinds, b->fault_kinds) << "seed " << seed;
    EXPECT_NE(b->text.find("claim_scheme: cond_update"), std::string::npos) << b->text;
    EXPECT_NE(
        b->text.find("--campaign-seed " + std::to_string(seed) + " --claim-scheme cond_update"),
        std::string::npos)
        << b->text;
    // The load and the timeline: the text past the scheme's line is the same.
    const auto after = [](const std::string& t) { return t.substr(t.find("load:")); };
    EXPECT_EQ(after(a->text), after(b->text)) << "seed " << seed;
  }
}

TEST(Campaign, EachSeedDrawsAReadableRepeatableTimeline) {
  const std::string base = RP_SOURCE_DIR "/tests/data/sim_smoke.yaml";
  rp::testing::TempDir dir;
  std::set<std::string> texts, schemes;
  std::map<std::string, int> actions;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    auto a = DrawCampaignScenario(base, seed);
    auto b = DrawCampaignScenario(base, seed);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b) << "seed " << seed;
    texts.insert(*a);
    auto path = WriteCampaignScenario(base, seed, dir.path());
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    auto s = LoadScenario(*path);
    ASSERT_TRUE(s.ok()) << s.status().ToString() << "\n" << *a;
    EXPECT_EQ(s->seed, seed);
    EXPECT_TRUE(s->system.redis);
    schemes.insert(s->system.claim_scheme);
    EXPECT_FALSE(s->faults.empty());
    std::map<std::string, int> open;  // Lane -> faults open in it.
    for (const Fault& f : s->faults) {
      const std::string action = Name(f.action);
      ++actions[action];
      EXPECT_GE(f.at_s, 0);
      EXPECT_LE(f.at_s, static_cast<double>(s->DurationS()));
      const std::string lane = action.substr(0, action.find('_'));
      const bool opens = action == "redis_stop" || action == "redis_snapshot" ||
                         action == "server_pause" || action == "mock_switch";
      const bool closes = action == "redis_start" || action == "redis_stale_restart" ||
                          action == "server_resume" || action == "mock_reset";
      if (!opens && !closes) {
        EXPECT_EQ(open[lane], 0) << action << " inside an open window, seed " << seed;
      }
      if (opens) {
        EXPECT_EQ(open[lane]++, 0) << action << " overlaps, seed " << seed;
      }
      if (closes) {
        EXPECT_EQ(--open[lane], 0) << action << " closes nothing, seed " << seed;
      }
    }
    for (const auto& [lane, n] : open) EXPECT_EQ(n, 0) << lane << " left open, seed " << seed;
  }
  EXPECT_EQ(texts.size(), 40u);
  EXPECT_EQ(schemes.size(), kClaimSchemes.size());  // Forty seeds reach every scheme...
  for (const char* a : {"redis_stop", "redis_flush", "redis_snapshot", "server_kill",
                        "server_pause", "server_restart", "mock_switch"}) {
    EXPECT_GT(actions[a], 0) << a;  // ...and every kind of fault.
  }
  EXPECT_FALSE(DrawCampaignScenario(dir.File("missing.yaml"), 1).ok());
}

// The faults a seed can draw follow the system it runs on — whatever said which it is: the
// file's system, or --ledger / --instances — and over 200 seeds every one of them is drawn.
// The ones that take the server or its database away budget the requests they leave unanswered.
TEST(Campaign, DrawsEveryFaultItsSystemSupports) {
  using Kinds = std::set<std::string>;
  const Kinds always = {"server_kill", "server_pause", "server_restart", "mock_switch"};
  const Kinds redis = {"redis_stop", "redis_flush", "redis_snapshot"};
  const Kinds db = {"db_crash", "db_restart"}, instances = {"instance_kill", "instance_restart"};
  auto with = [](Kinds a, const Kinds& b) {
    a.insert(b.begin(), b.end());
    return a;
  };
  auto drawable = [](const char* ledger, int n, bool has_redis) {
    const std::vector<std::string> k = DrawableFaultKinds({ledger, n, has_redis});
    return Kinds(k.begin(), k.end());
  };
  EXPECT_EQ(drawable("sqlite", 1, true), with(always, redis));
  EXPECT_EQ(drawable("sqlite", 1, false), always);
  EXPECT_EQ(drawable("postgres", 1, true), with(with(always, redis), db));
  EXPECT_EQ(drawable("postgres", 1, false), with(always, db));
  EXPECT_EQ(drawable("postgres", 2, true), with(with(with(always, redis), db), instances));
  EXPECT_EQ(drawable("postgres", 3, false), with(with(always, db), instances));

  rp::testing::TempDir dir;
  const std::string smoke = RP_SOURCE_DIR "/tests/data/sim_smoke.yaml";  // sqlite, 1 instance.
  std::ifstream in(smoke);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("system:\n"), 8, "system:\n  ledger: postgres\n  instances: 2\n");
  const std::string pg_file = dir.File("pg2.yaml");
  std::ofstream(pg_file) << text;
  RunOptions pg, pg2;
  pg.ledger = pg2.ledger = "postgres";
  pg2.instances = 2;
  struct Shape {
    std::string base;
    RunOptions run;
    CampaignSystem system;
  };
  for (const Shape& shape :
       {Shape{smoke, {}, {"sqlite", 1, true}}, Shape{smoke, pg, {"postgres", 1, true}},
        Shape{smoke, pg2, {"postgres", 2, true}}, Shape{pg_file, {}, {"postgres", 2, true}}}) {
    const std::string name = shape.system.ledger + " x" + std::to_string(shape.system.instances);
    Result<Scenario> base = LoadScenario(shape.base);
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    const CampaignSystem system = CampaignSystemOf(*base, shape.run);
    EXPECT_EQ(system.ledger, shape.system.ledger);
    EXPECT_EQ(system.instances, shape.system.instances);
    std::map<std::string, int> drawn;
    for (uint64_t seed = 1; seed <= 200; ++seed) {
      Result<CampaignDraw> d = DrawCampaign(shape.base, seed, shape.run);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      for (const std::string& kind : d->fault_kinds) ++drawn[kind];
      Result<Scenario> s = ParseScenarioText(d->text, name + " seed " + std::to_string(seed));
      ASSERT_TRUE(s.ok()) << s.status().ToString() << "\n" << d->text;
      EXPECT_EQ(s->system.ledger, system.ledger);  // The file runs as it is.
      EXPECT_EQ(s->system.instances, system.instances);
      for (const Fault& f : s->faults) {
        const std::string action = Name(f.action);
        const bool takes_away = action == "server_kill" || action == "server_pause" ||
                                action == "server_restart" || action == "db_crash" ||
                                action == "db_restart" || action == "instance_kill";
        if (takes_away) {
          EXPECT_EQ(f.unanswered_max, kUnansweredAll) << action << "\n" << d->text;
        }
        if (action.rfind("redis_", 0) == 0 || action.rfind("mock_", 0) == 0) {
          EXPECT_EQ(f.unanswered_max, -1) << action;  // The server must answer through these.
        }
      }
    }
    const std::vector<std::string> kinds = DrawableFaultKinds(system);
    EXPECT_EQ(drawn.size(), kinds.size()) << name;  // Nothing it cannot apply...
    for (const std::string& kind : kinds) {
      EXPECT_GT(drawn[kind], 0) << kind << " never drawn on " << name;  // ...and all it can.
    }
  }
}

// The fault actions are one table: every row is found by its name, in enumerator order, each name
// once; what ends a fault is itself in the table; and the docs name every action a file may use.
TEST(FaultActions, TheTableIsTheOneVocabulary) {
  std::set<std::string> names;
  for (size_t i = 0; i < kFaultActionCount; ++i) {
    const auto action = static_cast<FaultAction>(i);
    const FaultActionInfo& row = Info(action);  // Checks the row order itself.
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_EQ(FindFaultAction(row.name), action);
    for (const std::optional<FaultAction>& end : row.ended_by) {
      if (end) {
        EXPECT_NE(*end, action) << row.name << " ends itself";
      }
    }
  }
  EXPECT_FALSE(FindFaultAction("mock_rest").has_value());
  std::ifstream in(RP_SOURCE_DIR "/docs/scenarios.md");
  const std::string docs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string& name : names) {
    EXPECT_NE(docs.find("action: " + name), std::string::npos) << name << " is not in the docs";
  }
}

}  // namespace
}  // namespace rp::sim
