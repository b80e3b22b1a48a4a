// The PostgreSQL connection's pipeline mode alone (links rp_ledger and a private PostgreSQL):
// statements sent ahead — never awaited one by one — commit when the job does, are not
// prepared twice, never outgrow what the server can answer into, and a failure among them
// fails the job (or only its savepoint) exactly as an awaited statement's would.
#include <gtest/gtest.h>

#include <memory>

#include "common/process/pg_process.h"
#include "server/ledger/engine.h"
#include "server/ledger/sql.h"
#include "tests/util/temp_dir.h"

namespace rp::ledger {
namespace {

// cause is NOT NULL: binding NULL makes the insert fail on the server, not before.
const Sql kAppend(
    "INSERT INTO events (entity, entity_id, from_state, to_state, cause, at_ms) "
    "VALUES ('test', ?, 'a', 'b', ?, 0)",
    Sql::Answer::kSentAhead);
const Sql kCount("SELECT COUNT(*) FROM events WHERE entity = 'test' AND cause = ?");

class PgPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    postgres_ = new PostgresProcess(dir_->File("pg"));
    Status s = postgres_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete postgres_;
    delete dir_;
  }
  void SetUp() override {
    static int n = 0;
    Result<std::string> url = postgres_->CreateDatabase("pipeline_" + std::to_string(++n));
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    LedgerOptions o;
    o.engine = "postgres";
    o.url = *url;
    o.pool_size = 1;  // One connection: every job below runs on a fresh-or-reused one in turn.
    o.retries_max = 0;
    auto engine = OpenEngine(o);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine.value());
  }

  Status Append(Tx& tx, int64_t i, const char* cause) {
    Query q = tx.Run(kAppend);
    q.Bind(i);
    if (cause == nullptr) {
      q.BindNull();
    } else {
      q.Bind(cause);
    }
    return q.Exec();
  }
  int64_t Count(const std::string& cause) {
    int64_t n = -1;
    Status s = engine_->Read([&](ReadTx& tx) {
      Query q = tx.Run(kCount);
      q.Bind(cause);
      if (!q.Next()) return q.status();
      n = q.Int(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }

  static testing::TempDir* dir_;
  static PostgresProcess* postgres_;
  std::unique_ptr<Engine> engine_;
};

testing::TempDir* PgPipelineTest::dir_ = nullptr;
PostgresProcess* PgPipelineTest::postgres_ = nullptr;

// Thousands of sends before the first answer is read: the first execution's PREPARE is still
// unanswered when the second execution goes out, and more answers are owed than fit in a socket
// buffer unless the connection reads them on the way.
TEST_F(PgPipelineTest, ThousandsOfStatementsSentAheadCommitWithTheJob) {
  Status s = engine_->RunSync([&](Tx& tx) {
    for (int64_t i = 0; i < 5000; ++i) {
      if (Status a = Append(tx, i, "many"); !a.ok()) return a;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count("many"), 5000);
}

// A failure among statements sent ahead, before or after the connection read answers early:
// the job fails with the server's reason and nothing of it commits.
TEST_F(PgPipelineTest, AFailureSentAheadFailsTheWholeJob) {
  for (int64_t bad_at : {3, 1500}) {
    const std::string cause = "doomed" + std::to_string(bad_at);
    Status s = engine_->RunSync([&](Tx& tx) {
      for (int64_t i = 0; i < 2000; ++i) {
        if (Status a = Append(tx, i, i == bad_at ? nullptr : cause.c_str()); !a.ok()) return a;
      }
      return Status::Ok();
    });
    EXPECT_FALSE(s.ok()) << "bad row at " << bad_at;
    EXPECT_NE(s.message().find("23502"), std::string::npos) << s.ToString();  // not_null
    EXPECT_EQ(Count(cause), 0) << "bad row at " << bad_at;
  }
  // The connection is usable afterwards.
  ASSERT_TRUE(engine_->RunSync([&](Tx& tx) { return Append(tx, 1, "after"); }).ok());
  EXPECT_EQ(Count("after"), 1);
}

// Inside a savepoint the failure belongs to the savepoint: the outer job's rows before and after
// it commit, the nested job's do not.
TEST_F(PgPipelineTest, AFailureSentAheadInANestedJobUndoesOnlyIt) {
  Status nested_status;
  Status s = engine_->RunSync([&](Tx& tx) {
    if (Status a = Append(tx, 1, "outer"); !a.ok()) return a;
    nested_status = tx.Nested([&](Tx& t) {
      if (Status a = Append(t, 2, "inner"); !a.ok()) return a;
      return Append(t, 3, nullptr);
    });
    return Append(tx, 4, "outer");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(nested_status.ok());
  EXPECT_EQ(Count("outer"), 2);
  EXPECT_EQ(Count("inner"), 0);
}

}  // namespace
}  // namespace rp::ledger
