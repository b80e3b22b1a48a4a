// What a shared machine asks of these programs: a password never printed (URLs and connection
// strings in logs, errors and command output), the private PostgreSQL refusing whoever lacks its
// password (another local user over TCP, or a program run as `postgres` on its socket), no folder
// of anybody else's changing its permissions for it, and rp-server's check and recon saying
// "could not connect" with an exit code of its own.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/process/pg_process.h"
#include "common/process/process.h"
#include "common/process/redis_process.h"
#include "common/redact.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

namespace fs = std::filesystem;

// ---- Redaction: every form a password takes, and what must stay as it is. ----

TEST(Redact, HidesThePasswordInEachFormAndKeepsTheRest) {
  const std::map<std::string, std::string> cases = {
      {"postgresql://u:secret@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"},
      {"postgres://u:p%40ss:w@h/x?sslmode=disable", "postgres://u:***@h/x?sslmode=disable"},
      {"http://admin:hunter2@127.0.0.1:9000", "http://admin:***@127.0.0.1:9000"},
      {"postgresql://u@h:5432/x?password=secret", "postgresql://u@h:5432/x?password=***"},
      {"postgresql://u@h/x?sslmode=require&password=secret&connect_timeout=3",
       "postgresql://u@h/x?sslmode=require&password=***&connect_timeout=3"},
      {"postgresql://u@h/x?sslpassword=secret", "postgresql://u@h/x?sslpassword=***"},
      {"host=127.0.0.1 port=1 user=u password=secret dbname=x",
       "host=127.0.0.1 port=1 user=u password=*** dbname=x"},
      {"host=h password = 'sec ret\\'s' dbname=x", "host=h password = *** dbname=x"},
      {"password=secret", "password=***"},
      {"PASSWORD=secret host=h", "PASSWORD=*** host=h"},
      // libpq quotes a URI it cannot parse inside its message.
      {"invalid URI: \"postgresql://u:secret@[bad\"", "invalid URI: \"postgresql://u:***@[bad\""},
      {"two: postgresql://a:one@h/x and http://b:two@h:1/y",
       "two: postgresql://a:***@h/x and http://b:***@h:1/y"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(RedactSecrets(in), out) << in;
  for (const char* kept :
       {"postgresql://u@127.0.0.1:1/x", "http://127.0.0.1:9000/export", "/var/lib/rp/ledger.db",
        "postgresql://postgres@127.0.0.1:5/db?passfile=/tmp/d/pgpass",
        "password authentication failed for user \"u\"", "host=h user=u dbname=x", ""}) {
    EXPECT_EQ(RedactSecrets(kept), std::string(kept));
  }
}

TEST(Redact, AConnectionErrorHidesThePasswordWhereverLibpqQuotesIt) {
  // libpq names a fragment it could not read: the password alone, out of its context.
  EXPECT_EQ(RedactConnectionError("missing \"=\" after \"s3cr3t\" in connection info string",
                                  "host=h password=s3cr3t junk"),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(RedactConnectionError("bad: p@ss and p%40ss", "postgresql://u:p%40ss@h/x"),
            "bad: *** and ***");
  EXPECT_EQ(RedactConnectionError("quoted: it's", "host=h password='it\\'s'"), "quoted: ***");
  EXPECT_EQ(RedactConnectionError("connection refused", "postgresql://u@h/x"),
            "connection refused");
}

// ---- The private PostgreSQL. ----

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

uid_t OwnerOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_uid;
}

// The modes of path and every folder above it.
std::map<std::string, mode_t> ModesUpFrom(const std::string& path) {
  std::map<std::string, mode_t> modes;
  for (fs::path p = fs::absolute(path);; p = p.parent_path()) {
    modes[p.string()] = ModeOf(p.string());
    if (p == p.root_path()) break;
  }
  return modes;
}

bool Connects(const std::string& conninfo, std::string* error = nullptr) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  const bool ok = PQstatus(c) == CONNECTION_OK;
  if (error != nullptr) *error = PQerrorMessage(c);
  PQfinish(c);
  return ok;
}

// The password PostgresProcess generated, from its password file (the one place it is kept).
std::string PasswordOf(const PostgresProcess& pg) {
  std::ifstream in(pg.dir() + "/pgpass");
  std::string line;
  std::getline(in, line);
  return line.substr(line.rfind(':') + 1);
}

class PrivatePostgres : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Folders on the way that others may not enter, as a private work folder is.
    fs::create_directories(dir_->File("closed/inner"));
    chmod(dir_->File("closed").c_str(), 0700);
    chmod(dir_->File("closed/inner").c_str(), 0750);
    modes_before_ = new std::map<std::string, mode_t>(ModesUpFrom(dir_->File("closed/inner")));
    pg_ = new PostgresProcess(dir_->File("closed/inner/pg"));
    Status s = pg_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete modes_before_;
    delete dir_;
  }
  static std::string Port() { return std::to_string(pg_->port()); }

  static TempDir* dir_;
  static PostgresProcess* pg_;
  static std::map<std::string, mode_t>* modes_before_;
};

TempDir* PrivatePostgres::dir_ = nullptr;
PostgresProcess* PrivatePostgres::pg_ = nullptr;
std::map<std::string, mode_t>* PrivatePostgres::modes_before_ = nullptr;

TEST_F(PrivatePostgres, ItsOwnUrlConnectsAndHoldsNoPassword) {
  std::string error;
  EXPECT_TRUE(Connects(pg_->url(), &error)) << error;
  EXPECT_EQ(
      pg_->url().rfind("postgresql://postgres@127.0.0.1:" + Port() + "/postgres?passfile=", 0), 0u)
      << pg_->url();
  const std::string password = PasswordOf(*pg_);
  ASSERT_GE(password.size(), 32u);
  EXPECT_EQ(pg_->url().find(password), std::string::npos);
  EXPECT_EQ(ModeOf(pg_->dir() + "/pgpass"), 0600);
  EXPECT_EQ(OwnerOf(pg_->dir() + "/pgpass"), geteuid());
}

// Before: initdb -A trust, so any local user was the superuser over loopback TCP and on the
// socket. Now every connection needs the password (SCRAM).
TEST_F(PrivatePostgres, AConnectionWithoutThePasswordIsRefused) {
  std::string error;
  // passfile=/dev/null: not even a ~/.pgpass of ours may help.
  const std::string tcp =
      "host=127.0.0.1 port=" + Port() + " user=postgres dbname=postgres passfile=/dev/null";
  EXPECT_FALSE(Connects(tcp, &error));
  EXPECT_NE(error.find("password"), std::string::npos) << error;
  EXPECT_FALSE(Connects(tcp + " password=guess", &error));
  EXPECT_NE(error.find("password authentication failed"), std::string::npos) << error;
  const std::string socket = "host=" + pg_->cluster_dir() + " port=" + Port() +
                             " user=postgres dbname=postgres "
                             "passfile=/dev/null";
  EXPECT_FALSE(Connects(socket, &error));
  EXPECT_NE(error.find("password"), std::string::npos) << error;
  EXPECT_TRUE(Connects(tcp + " password=" + PasswordOf(*pg_), &error)) << error;
}

// The red team's way in: psql run as the `postgres` user on the server's own socket (peer or
// trust authentication would let it in as the superuser).
TEST_F(PrivatePostgres, PsqlAsThePostgresUserOnTheSocketIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run psql as the postgres user";
  TempDir out;
  auto psql =
      ChildProcess::Spawn({"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                           "--init-groups", "--", "/usr/bin/psql", "-w", "-h", pg_->cluster_dir(),
                           "-p", Port(), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"},
                          {"PGPASSFILE=/dev/null"}, out.File("psql.err"));
  ASSERT_TRUE(psql.ok()) << psql.status().ToString();
  Result<int> code = psql->Wait(30000);
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  std::ifstream err(out.File("psql.err"));
  const std::string said((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(said.find("password"), std::string::npos) << said;
}

// Before: running as root added o+x to every folder above the cluster that we own (a 0700 work
// folder became 0701, for good). Now nothing above is touched; as root the cluster lives in a
// folder of its own that belongs to `postgres`.
TEST_F(PrivatePostgres, NoFolderAboveItChangesItsMode) {
  EXPECT_EQ(ModesUpFrom(dir_->File("closed/inner")), *modes_before_);
  EXPECT_EQ(ModeOf(pg_->dir()), 0700);
  if (geteuid() == 0) {
    EXPECT_EQ(pg_->cluster_dir().rfind("/tmp/rp-pg-", 0), 0u) << pg_->cluster_dir();
    EXPECT_EQ(ModeOf(pg_->cluster_dir()), 0700);
    EXPECT_EQ(OwnerOf(pg_->cluster_dir()), OwnerOf(pg_->cluster_dir() + "/data"));
    EXPECT_NE(OwnerOf(pg_->cluster_dir()), 0u);
    EXPECT_TRUE(fs::is_symlink(pg_->dir() + "/data"));
  } else {
    EXPECT_EQ(pg_->cluster_dir(), pg_->dir());
  }
}

TEST(PrivatePostgresLifetime, ItsClusterGoesWithItUnlessKept) {
  TempDir dir;
  std::string removed, kept;
  {
    PostgresProcess pg(dir.File("a"));
    ASSERT_TRUE(pg.Start().ok());
    removed = pg.cluster_dir();
  }
  if (geteuid() == 0) {
    EXPECT_FALSE(fs::exists(removed)) << removed;
  }
  {
    PostgresProcess pg(dir.File("b"));
    ASSERT_TRUE(pg.Start().ok());
    pg.KeepCluster();
    kept = pg.cluster_dir();
  }
  EXPECT_TRUE(fs::exists(kept + "/data/PG_VERSION")) << kept;
  if (kept != dir.File("b")) fs::remove_all(kept);
}

// ---- rp-server: what it prints and how it exits. ----

struct Ran {
  int code = -1;
  std::string output;  // stdout and stderr.
};

Ran RunServer(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> argv = {RP_SERVER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Ran ran;
  // recon with --mocks needs every service's secret (and checks them before anything else).
  auto child = ChildProcess::Spawn(argv,
                                   {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                                    std::string("RP_PAYMENT_SECRET=") + kPaymentSecret,
                                    std::string("RP_REWARD_SECRET=") + kRewardSecret},
                                   dir.File("stderr"));
  if (!child.ok()) return ran;
  for (auto line = child->ReadLine(60000); line.ok(); line = child->ReadLine(60000)) {
    ran.output += *line + "\n";
  }
  Result<int> code = child->Wait(60000);
  ran.code = code.ok() ? *code : -1;
  std::ifstream err(dir.File("stderr"));
  ran.output += std::string((std::istreambuf_iterator<char>(err)), {});
  return ran;
}

// Nothing listens on the port: PostgreSQL is down. check and recon say so without the password
// and exit 3 (could not connect), not 2 (bad input), in every form a URL may take.
TEST(ServerCli, CheckAndReconCannotConnectSayItWithoutThePasswordAndExitThree) {
  TempDir dir;
  const std::string port = std::to_string(FreeLoopbackPort());
  for (const std::string& url :
       {"postgresql://u:secret@127.0.0.1:" + port + "/x",
        "postgresql://u@127.0.0.1:" + port + "/x?password=secret",
        "host=127.0.0.1 port=" + port + " user=u password=secret dbname=x"}) {
    const Ran check = RunServer({"check", "--ledger", "postgres", "--ledger-url", url}, dir);
    EXPECT_EQ(check.code, 3) << url << ": " << check.output;
    EXPECT_EQ(check.output.find("secret"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("***"), std::string::npos) << check.output;
    const Ran recon = RunServer({"recon", "--ledger", "postgres", "--ledger-url", url, "--mocks",
                                 "http://127.0.0.1:" + port},
                                dir);
    EXPECT_EQ(recon.code, 3) << url << ": " << recon.output;
    EXPECT_EQ(recon.output.find("secret"), std::string::npos) << recon.output;
  }
}

// A URL libpq cannot read is bad input (2), and its message still hides the password.
TEST(ServerCli, AMalformedLedgerUrlIsBadInputAndHidesThePassword) {
  TempDir dir;
  for (const std::string& url :
       {std::string("postgresql://u:secret@[::1/x"), std::string("host=h password=secret junk")}) {
    const Ran check = RunServer({"check", "--ledger", "postgres", "--ledger-url", url}, dir);
    EXPECT_EQ(check.code, 2) << url << ": " << check.output;
    EXPECT_EQ(check.output.find("secret"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("is not a PostgreSQL connection string"), std::string::npos)
        << check.output;
  }
}

// A SQLite ledger whose services are down: recon could not connect (3).
TEST(ServerCli, ReconWithItsServicesDownExitsThree) {
  TempDir dir;
  {
    InProcessServer server(TestConfig(dir));  // Creates the ledger file.
  }
  const Ran recon = RunServer({"recon", "--db", dir.File("ledger.db"), "--mocks",
                               "http://u:secret@127.0.0.1:" + std::to_string(FreeLoopbackPort())},
                              dir);
  EXPECT_EQ(recon.code, 3) << recon.output;
  EXPECT_EQ(recon.output.find("secret"), std::string::npos) << recon.output;
}

TEST(ServerCli, ExitCodesAreInTheHelp) {
  TempDir dir;
  for (const char* command : {"check", "recon"}) {
    const Ran help = RunServer({command, "--help"}, dir);
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.output.find("3 could not connect"), std::string::npos) << help.output;
    EXPECT_NE(help.output.find("2 bad input"), std::string::npos) << help.output;
  }
}

// since * 1000 overflowed int64 for a huge --since: now refused as bad input, saying the range.
TEST(ServerCli, ReconRefusesASinceBeyondTheYear9999) {
  TempDir dir;
  for (const char* since : {"999999999999999999", "9223372036854775807", "253402300800", "-1"}) {
    const Ran recon = RunServer(
        {"recon", "--db", dir.File("none.db"), "--mocks", "http://127.0.0.1:1", "--since", since},
        dir);
    EXPECT_EQ(recon.code, 2) << since << ": " << recon.output;
    EXPECT_NE(recon.output.find("--since"), std::string::npos) << recon.output;
  }
}

// The start-up log names the ledger; with the password given in the URL's query or in the
// keyword/value form, the log says *** in its place.
TEST_F(PrivatePostgres, TheServerStartUpLogHidesThePasswordInEveryForm) {
  Result<std::string> created = pg_->CreateDatabase("startup_log");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string password = PasswordOf(*pg_);
  for (const std::string& url :
       {"postgresql://postgres:" + password + "@127.0.0.1:" + Port() + "/startup_log",
        "postgresql://postgres@127.0.0.1:" + Port() + "/startup_log?password=" + password,
        "host=127.0.0.1 port=" + Port() +
            " user=postgres dbname=startup_log password=" + password}) {
    TempDir dir;
    auto server = ChildProcess::Spawn(
        {RP_SERVER_BIN, "serve", "--port", "0", "--ledger", "postgres", "--ledger-url", url},
        {std::string("RP_AUTH_SECRET=") + kAuthSecret,
         std::string("RP_PAYMENT_SECRET=") + kPaymentSecret},
        dir.File("server.log"));
    ASSERT_TRUE(server.ok());
    Result<std::string> line = server->ReadLine(30000);
    ASSERT_TRUE(line.ok()) << "rp-server did not start with " << RedactSecrets(url);
    server->Signal(SIGTERM);
    ASSERT_TRUE(server->Wait(30000).ok());
    std::ifstream in(dir.File("server.log"));
    const std::string log((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(log.find("rp-server up:"), std::string::npos) << log;
    EXPECT_NE(log.find("***"), std::string::npos) << log;
    EXPECT_EQ(log.find(password), std::string::npos) << "the password is in the log";
  }
}

}  // namespace
}  // namespace rp::testing
