#include "simulator/run/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "common/claim_schemes.h"
#include "common/clock.h"
#include "common/http_load.h"
#include "common/ledger_engines.h"
#include "common/process/process.h"
#include "common/redact.h"
#include "simulator/engine/load_engine.h"
#include "simulator/exporter/client_metrics.h"
#include "simulator/monitor/cost.h"
#include "simulator/monitor/monitor.h"
#include "simulator/results/junit.h"
#include "simulator/results/results.h"
#include "simulator/run/campaign.h"
#include "simulator/run/exact.h"
#include "simulator/run/plan_checks.h"
#include "simulator/run/progress_line.h"
#include "simulator/run/run_internal.h"
#include "simulator/run/target_probe.h"
#include "simulator/run/work_dir.h"
#include "simulator/system/system.h"
#include "simulator/verify/verify.h"

namespace rp::sim {

std::string UtcNow(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

namespace {

std::string BinDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("build/bin") : exe.parent_path().string();
}

// One sample of the same run's ceiling: how fast this machine answers the cheapest request right
// now. A run takes two, before the load and after its verification: one short sample on a busy
// machine ranged 1,104-27,899 req/s within one compare, so no figure rests on a single one.
// With the system rp-sim started, also what one /healthz answer cost rp-server in CPU: the
// reference the claim's CPU is expressed in (cost.cpu_per_claim_in_healthz), which moves with the
// machine's speed as the claim's does.
double MeasureCeiling(const Target& t, const SystemUnderTest* system, RunReport* report) {
  const SystemCpu before = system ? system->SampleCpu() : SystemCpu{};
  load::LoadOptions o;
  o.host = t.host;
  o.port = t.port;
  o.connections = 64;
  o.duration_ms_max = 1000;
  o.requests_max = 10'000'000;
  const std::string req = load::RenderRequest("GET", "/healthz", {}, "");
  auto r = load::RunClosedLoop(o, [&req](int64_t) { return req; });
  const double rps = r.ok() ? r->RequestsPerSecond() : 0;
  report->healthz_ceiling_samples_rps.push_back(rps);
  if (system == nullptr || !r.ok() || r->responses <= 0) return rps;
  const SystemCpu after = system->SampleCpu();
  auto server = [](const SystemCpu& c) {
    auto it = c.seconds.find("rp-server");
    return it == c.seconds.end() ? 0.0 : it->second;
  };
  if (after.pids == before.pids) {
    report->healthz_cpu_us_per_request.push_back(1e6 * (server(after) - server(before)) /
                                                 static_cast<double>(r->responses));
  }
  return rps;
}

// A line every second on a terminal (rewritten in place), else every kPlainLineEveryS seconds
// for logs and CI; either way the line folds every second since the previous one.
void PrintProgress(const Progress& p, bool tty, ProgressFold* fold) {
  constexpr int64_t kPlainLineEveryS = 5;
  fold->Add(p);
  if (!tty && static_cast<int64_t>(p.elapsed_s) % kPlainLineEveryS != 0) return;
  const std::string line = FormatProgressLine(fold->Take());
  if (tty) {
    std::printf("\r\033[K%s", line.c_str());
  } else {
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

// When rp-dash was built next to rp-sim, renders the run's dashboard to dashboard.png and embeds
// it in report.md. A missing rp-dash is fine (Qt is optional); a failing one is reported.
void ExportDashboard(const std::string& out_dir) {
  const std::string dash = BinDir() + "/rp-dash";
  if (!std::filesystem::exists(dash)) return;
  const std::string png = out_dir + "/dashboard.png";
  auto child = ChildProcess::Spawn({dash, "--export", png, out_dir}, {"QT_QPA_PLATFORM=offscreen"},
                                   out_dir + "/rp-dash.log");
  if (!child.ok()) return;
  while (child->ReadLine(60000).ok()) {
  }
  auto code = child->Wait(60000);
  if (!code.ok() || *code != 0) {
    std::printf("rp-sim: rp-dash could not export the dashboard (see %s/rp-dash.log)\n",
                out_dir.c_str());
    return;
  }
  std::filesystem::remove(out_dir + "/rp-dash.log");
  std::ofstream(out_dir + "/report.md", std::ios::app)
      << "\n## Dashboard\n\n![rp-dash export of this run](dashboard.png)\n";
  std::printf("rp-sim: dashboard: %s\n", png.c_str());
}

Status ApplyOverrides(const RunOptions& o, Scenario& s) {
  if (o.seed != 0) s.seed = o.seed;
  if (o.duration_s > 0) s.ScaleTo(o.duration_s);
  if (!o.claim_scheme.empty()) {
    s.system.claim_scheme = o.claim_scheme;
    if (FindClaimScheme(o.claim_scheme)->needs_redis) s.system.redis = true;
  }
  if (!o.ledger.empty()) s.system.ledger = o.ledger;
  if (o.instances > 0) s.system.instances = o.instances;
  if (o.pg_stats && (s.system.ledger != kPostgresEngine || !o.target.empty())) {
    return Status(Error::kBadScenario,
                  "--pg-stats needs the PostgreSQL rp-sim starts (--ledger postgres, no --target)");
  }
  return CheckSystemFits(s);
}

}  // namespace

namespace {

// Where the run goes: a private system rp-sim starts (no --target), or a server already running.
// Returns 0, or the exit code to stop with.
int ResolveTarget(const RunOptions& o, const Scenario& s, Target* t,
                  std::unique_ptr<SystemUnderTest>* system, std::string* work_dir) {
  if (o.target.empty()) {
    for (const std::string& stale : CleanUpStaleWorkDirs()) {
      std::printf("rp-sim: found a stale work folder %s\n", stale.c_str());
    }
    Result<std::string> dir = MakeWorkDir();
    if (!dir.ok()) {
      std::cerr << "rp-sim: " << dir.status().message() << "\n";
      return 2;
    }
    *work_dir = *dir;
    *system =
        std::make_unique<SystemUnderTest>(s, o.bin_dir.empty() ? BinDir() : o.bin_dir, *work_dir);
    (*system)->SetServerEnv(o.server_env);
    if (o.pg_stats) (*system)->TrackStatements();
    if (Status st = (*system)->Start(); !st.ok()) {
      std::cerr << "rp-sim: could not start the system: " << st.ToString() << "\n";
      return 2;
    }
    t->port = (*system)->server_port();
    t->auth_secret = (*system)->secrets().auth;
    t->payment_secret = (*system)->secrets().payment;
    t->mocks_url = (*system)->mock_url();
    return 0;
  }
  const char* auth = std::getenv("RP_AUTH_SECRET");
  const char* pay = std::getenv("RP_PAYMENT_SECRET");
  if (!ParseHttpUrl(o.target, &t->host, &t->port) || auth == nullptr ||
      (o.mocks_url.empty() && pay == nullptr)) {
    std::cerr << "rp-sim: --target must look like http://HOST:PORT, with RP_AUTH_SECRET (and "
                 "RP_PAYMENT_SECRET unless --mocks is given) set to the server's secrets\n";
    return 2;
  }
  // Before the ceiling, fixtures and load: a service that is not rp-server would take them all
  // at 100% errors and only fail after the verification's wait.
  if (Status st = ProbeRpServer(t->host, t->port); !st.ok()) {
    std::cerr << "rp-sim: " << st.message() << "\n";
    return 2;
  }
  t->auth_secret = auth;
  t->payment_secret = pay ? pay : "";
  t->mocks_url = o.mocks_url;
  return 0;
}

// Claims the load won: the 201 answers to claim requests.
double ClaimsWon(const RunStats& stats) {
  auto op = stats.ops().find("claim");
  if (op == stats.ops().end()) return 0;
  auto won = op->second.by_status.find(201);
  return won == op->second.by_status.end() ? 0 : static_cast<double>(won->second);
}

// Every server series a check names must be on the server's /metrics before the load starts,
// so a typo is found now and not as "was not scraped" after the run.
Status CheckSeriesExist(const Scenario& s, const Target& t) {
  const std::vector<std::string> wanted = SeriesNamedByChecks(s);
  if (wanted.empty()) return Status::Ok();
  Result<std::vector<std::string>> exposed = ExposedSeries(t.host, t.port);
  if (!exposed.ok()) return exposed.status();
  for (const std::string& name : wanted) {
    if (std::find(exposed->begin(), exposed->end(), name) != exposed->end()) continue;
    std::string alike;
    for (const std::string& e : *exposed) {
      if (e.rfind(name.substr(0, std::min<size_t>(name.size(), 6)), 0) == 0) {
        alike += (alike.empty() ? "" : ", ") + e;
      }
    }
    return Status(Error::kBadCheck, "a check names the series " + name +
                                        ", which the server's /metrics does not have" +
                                        (alike.empty() ? "" : " (it has " + alike + ")"));
  }
  return Status::Ok();
}

// The abort_on_fail checks, once a second on the load's thread, against the stats so far and a
// snapshot of the scrapes.
AbortCheck AbortOnFail(const Scenario& s, const MetricsScraper& scraper) {
  bool any = false;
  for (const CheckSpec& c : s.checks) any = any || c.abort_on_fail;
  if (!any) return {};
  return [&s, &scraper](const RunStats& stats, double elapsed_s) -> std::string {
    const std::vector<MetricsRow> rows = scraper.Snapshot();
    CheckInputs in{&s, &stats, elapsed_s, nullptr, &rows, &scraper.columns()};
    std::optional<CheckResult> failed = FirstAbortingCheck(in, elapsed_s);
    if (!failed) return "";
    char at[32];
    std::snprintf(at, sizeof at, "%.0f", elapsed_s);
    return "check '" + failed->check + "' failed at " + at + " s (" + failed->detail + ")";
  };
}

// The load, the faults on their timeline and the scraper, then the verification and the
// checks. Returns 0, or the exit code to stop with.
int Execute(const RunOptions& o, const Scenario& s, const Target& t, SystemUnderTest* system,
            LoadOutcome* load, VerificationReport* verification, RunReport* report) {
  if (Status st = CheckSeriesExist(s, t); !st.ok()) {
    std::cerr << "rp-sim: " << s.path << ": " << st.message() << "\n";
    return 2;
  }
  MeasureCeiling(t, system, report);
  std::vector<ObservedPacket> hot;
  if (Status st = PrepareFixtures(s, t, &hot); !st.ok()) {
    std::cerr << "rp-sim: " << st.ToString() << "\n";
    return 2;
  }
  const int64_t start_ns = MonotonicNs();
  report->load_started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  auto scraper = std::make_unique<MetricsScraper>(
      t.host, system ? system->instance_ports() : std::vector<int>{t.port}, start_ns, 1000,
      SeriesNamedByChecks(s));
  auto faults = std::make_unique<FaultTimeline>(s.faults, system, start_ns);
  const bool tty = !o.quiet && isatty(STDOUT_FILENO);
  if (o.client_metrics) {
    o.client_metrics->BeginRun(s.name, s.system.claim_scheme, s.system.ledger, s.seed);
  }
  const std::vector<int> ports = system ? system->instance_ports() : std::vector<int>{t.port};
  const CostSnapshot cost_start = TakeCostSnapshot(system, t.host, ports);
  ProgressFold progress_fold;
  *load = RunLoad(
      s, t, hot, start_ns,
      [&](const Progress& p) {
        if (!o.quiet) PrintProgress(p, tty, &progress_fold);
      },
      AbortOnFail(s, *scraper), o.client_metrics);
  const CostSnapshot cost_end = TakeCostSnapshot(system, t.host, ports);
  report->cost = CostJson(cost_start, cost_end, ClaimsWon(load->stats), load->load_seconds);
  if (o.client_metrics) o.client_metrics->EndRun();
  if (tty) std::printf("\n");
  if (!load->aborted_by.empty() && !o.brief)
    std::printf("rp-sim: load aborted: %s\n", load->aborted_by.c_str());
  faults->Stop();
  if (system) system->ThawAll();
  report->faults = faults->records();
  if (!o.brief) {
    std::printf("rp-sim: load done; verifying (waiting for expiries, refunds and transfers)\n");
  }
  VerifyOptions vo;
  vo.settle_wait_s_max = SettleWaitS(s, system);
  *verification = Verify(load->observed, t, vo);
  MeasureCeiling(t, system, report);
  AddHealthzReference(report->healthz_cpu_us_per_request, &report->cost);
  scraper->Stop();
  report->server_metrics = scraper->rows();
  report->server_columns = scraper->columns();
  report->load = load;
  report->verification = verification;
  report->checks = EvaluateChecks({&s, &load->stats, load->load_seconds, verification,
                                   &report->server_metrics, &report->server_columns});
  for (CheckResult& c : PlanChecks(s, *load, report->faults))
    report->checks.push_back(std::move(c));
  report->passed = verification->ok;
  for (const CheckResult& c : report->checks) report->passed = report->passed && c.passed;
  return 0;
}

// A failed run's logs (rp-server, rp-mock, Redis, PostgreSQL, HAProxy) copied next to its
// results, so a campaign's failing seed can be read after later seeds and clean-ups have run.
// Bounded: log files only, each at most kLogBytesMax.
void KeepLogs(const std::string& work_dir, const std::string& logs_dir) {
  constexpr uintmax_t kLogBytesMax = 64ull << 20;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(logs_dir, ec);
  for (auto it = fs::recursive_directory_iterator(work_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".log") continue;
    if (it->file_size(ec) > kLogBytesMax) continue;
    std::string name = fs::relative(it->path(), work_dir, ec).string();
    std::replace(name.begin(), name.end(), '/', '_');
    fs::copy_file(it->path(), fs::path(logs_dir) / name, fs::copy_options::overwrite_existing, ec);
  }
}

}  // namespace

// How many statements --pg-stats lists (those that took the most time).
constexpr int kStatementsListed = 50;

int RunOnce(const RunOptions& o, nlohmann::json* summary_out) {
  Result<Scenario> loaded = LoadScenario(o.scenario_path);
  if (!loaded.ok()) {
    std::cerr << "rp-sim: " << loaded.status().message() << "\n";
    return 2;
  }
  Scenario s = std::move(loaded.value());
  if (Status st = ApplyOverrides(o, s); !st.ok()) {
    std::cerr << "rp-sim: " << s.path << ": " << st.message() << "\n";
    return 2;
  }
  if (o.edit_scenario) o.edit_scenario(s);
  if (o.exact) {
    if (Status st = CheckExactFits(o, s, FindInPath("valgrind")); !st.ok()) {
      std::cerr << "rp-sim: " << st.message() << "\n";
      return 2;
    }
    ShapeExactSlice(s, o.exact_claims);
  }
  const std::string out_dir =
      o.out_dir.empty()
          ? "results/" + s.name + "-" + UtcNow("%Y%m%d-%H%M%S") + "-" + s.system.claim_scheme
          : o.out_dir;
  Target t;
  std::unique_ptr<SystemUnderTest> system;
  std::string work_dir;
  struct EndAtReturn {  // However the run ends, its folder is no longer a live run's.
    const std::string& dir;
    ~EndAtReturn() {
      if (!dir.empty()) EndWorkDir(dir);
    }
  } end_at_return{work_dir};
  if (int rc = ResolveTarget(o, s, &t, &system, &work_dir); rc != 0) return rc;
  t.run_tag = std::to_string(std::time(nullptr));
  // Printed and written to summary.json: a password in --target's URL stays out of both.
  const std::string url = RedactSecrets("http://" + t.host + ":" + std::to_string(t.port));
  const std::string what =
      system ? "claim scheme " + s.system.claim_scheme + ", ledger " + s.system.ledger + ", " +
                   std::to_string(s.system.instances) + " instance" +
                   (s.system.instances == 1 ? "" : "s")
             : "a server rp-sim did not start (its scheme and ledger are its own)";
  if (!o.brief) {
    std::printf("rp-sim: %s (%s) against %s, %s, seed %llu, %lld s\n", s.name.c_str(),
                s.path.c_str(), url.c_str(), what.c_str(), static_cast<unsigned long long>(s.seed),
                static_cast<long long>(s.DurationS()));
  }
  std::fflush(stdout);  // The target URL, at once, for whoever watches (e.g. rp-dash --live).
  RunReport report;
  report.scenario = &s;
  report.target = url;
  report.system_started = system != nullptr;
  if (system) report.server_settings = system->server_settings();
  report.started_at = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  LoadOutcome load;
  VerificationReport verification;
  const int rc = o.exact
                     ? ExecuteExact(o, s, t, system.get(), out_dir, &load, &verification, &report)
                     : Execute(o, s, t, system.get(), &load, &verification, &report);
  if (rc != 0) return rc;
  Result<std::string> statements = std::string();
  if (system && o.pg_stats) statements = system->StatementFigures(kStatementsListed);
  if (system) {
    if (Status st = system->Stop(); !st.ok()) {
      verification.violations.push_back(st.ToString());
      verification.ok = report.passed = false;
    }
  }
  if (Status st = WriteResults(out_dir, report); !st.ok()) {
    std::cerr << "rp-sim: " << st.ToString() << "\n";
    return 2;
  }
  // The figures describe the run; they are not one of its checks, so a failure to read them is
  // said and the run's verdict stands.
  if (o.pg_stats && !statements.ok()) {
    std::cerr << "rp-sim: --pg-stats: no pg_statements.csv: " << statements.status().ToString()
              << "\n";
  } else if (o.pg_stats) {
    std::ofstream(out_dir + "/pg_statements.csv") << *statements;
  }
  nlohmann::json summary = SummaryJson(report);
  if (!o.brief) PrintSummary(summary, out_dir);
  if (o.pg_stats && statements.ok() && !o.brief) {
    std::printf("rp-sim: PostgreSQL's statements: %s/pg_statements.csv\n", out_dir.c_str());
  }
  if (o.after_run) o.after_run(s, load, out_dir);
  if (!o.brief) ExportDashboard(out_dir);
  if (summary_out) *summary_out = std::move(summary);
  if (!work_dir.empty() && !report.passed) {
    KeepLogs(work_dir, out_dir + "/logs");
    system->KeepLedger();
  }
  if (!work_dir.empty() && report.passed) std::filesystem::remove_all(work_dir);
  if (!work_dir.empty() && !report.passed && !o.brief) {
    std::printf("rp-sim: kept the run's ledger and logs in %s\n", work_dir.c_str());
  }
  return report.passed ? 0 : 1;
}

int RunScenario(const RunOptions& given) {
  RunOptions options = given;
  if (options.campaign_seed != 0) {  // The seed's drawn scenario, as the campaign ran it.
    // A folder of its own, never a fixed name in a shared TMPDIR (a symlink planted there would
    // have the file written wherever it points).
    Result<std::string> dir = MakePrivateTempDir("rp-campaign-seed");
    Result<std::string> drawn =
        dir.ok()
            ? WriteCampaignScenario(options.scenario_path, options.campaign_seed, *dir, options)
            : Result<std::string>(dir.status());
    if (!drawn.ok()) {
      std::cerr << "rp-sim: " << drawn.status().message() << "\n";
      return 2;
    }
    std::printf("rp-sim: campaign seed %llu of %s: %s\n",
                static_cast<unsigned long long>(options.campaign_seed),
                options.scenario_path.c_str(), drawn->c_str());
    options.scenario_path = *drawn;
  }
  nlohmann::json summary;
  const int rc = RunOnce(options, &summary);
  return rc == 2 ? rc : WriteJUnitIfAsked(options, {summary}, rc);
}

int WriteJUnitIfAsked(const RunOptions& o, const std::vector<nlohmann::json>& summaries, int rc,
                      const std::vector<JUnitSuite>& extra) {
  if (o.junit_path.empty()) return rc;
  if (Status st = WriteJUnit(o.junit_path, summaries, extra); !st.ok()) {
    std::cerr << "rp-sim: " << st.ToString() << "\n";
    return 2;
  }
  std::printf("rp-sim: JUnit XML: %s\n", o.junit_path.c_str());
  return rc;
}

}  // namespace rp::sim

namespace rp::sim {

bool ParseHttpUrl(const std::string& url, std::string* host, int* port) {
  const std::string prefix = "http://";
  const size_t colon = url.rfind(':');
  if (url.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size()) {
    return false;
  }
  const int parsed = std::atoi(url.c_str() + colon + 1);
  if (parsed <= 0 || parsed > 65535) return false;
  *host = url.substr(prefix.size(), colon - prefix.size());
  *port = parsed;
  return true;
}

}  // namespace rp::sim
