// rp-sim: the Redpacket Lab traffic simulator. `run` replays a scenario file (docs/scenarios.md)
// against its own system or an existing server; `compare` runs it once per claim scheme;
// `regress` gates on a baseline; `demo` is the scripted core flow.
#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/options_cli.h"
#include "common/version/version.h"
#include "simulator/demo_flow.h"
#include "simulator/exporter/client_metrics.h"
#include "simulator/results/html_report.h"
#include "simulator/run/campaign.h"
#include "simulator/run/run.h"
#include "simulator/system/system.h"

namespace {

void AddRunOptions(CLI::App* cmd, rp::sim::RunOptions& o) {
  cmd->add_option("scenario", o.scenario_path, "Scenario file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--target", o.target,
                  "Drive this server (http://HOST:PORT) instead of starting one; needs "
                  "RP_AUTH_SECRET (and RP_PAYMENT_SECRET without --mocks)");
  cmd->add_option("--mocks", o.mocks_url, "With --target: the rp-mock URL that server uses");
  cmd->add_option("--seed", o.seed, "Override the scenario's seed");
  cmd->add_option("--duration", o.duration_s, "Scale the load phases to this many seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  cmd->add_option("--out", o.out_dir,
                  "Results folder (default results/<scenario>-<time>-<scheme>)");
  cmd->add_option("--ledger", o.ledger, "Override system.ledger (postgres: rp-sim starts one)")
      ->check(CLI::IsMember(rp::LedgerEngineNames()));
  cmd->add_option("--instances", o.instances,
                  "Override system.instances: rp-server processes behind HAProxy (needs postgres)")
      ->check(CLI::Range(1, 8));
  cmd->add_flag("--quiet", o.quiet, "No live progress");
  cmd->add_flag("--pg-stats", o.pg_stats,
                "With the postgres ledger: load pg_stat_statements and write the statements "
                "that took the most time to pg_statements.csv in the results folder");
  cmd->add_option("--junit", o.junit_path,
                  "Also write a JUnit XML file: one test case per check and one for the money");
  cmd->add_option("--metrics-listen", o.metrics_listen,
                  "Serve rp-sim's own Prometheus /metrics on PORT or HOST:PORT (0: any free "
                  "port): intended-start latency, arrivals, drops, journeys in flight");
}

// --exact for the commands that measure a scheme (run, compare, regress).
void AddExactOptions(CLI::App* cmd, rp::sim::RunOptions& o) {
  cmd->add_flag("--exact", o.exact,
                "Count instructions instead of timing: a fixed slice of claims on one connection "
                "with rp-server under valgrind's callgrind (needs valgrind and a build without "
                "sanitizers); summary.json gets an \"exact\" object");
  cmd->add_option("--exact-claims", o.exact_claims, "Claims in the --exact slice")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
}

// Starts the client-side /metrics when --metrics-listen was given; the objects live until
// main returns. Returns 2 (said on stderr) when it cannot listen.
int StartClientMetrics(rp::sim::RunOptions& o, std::unique_ptr<rp::sim::ClientMetrics>* metrics,
                       std::unique_ptr<rp::sim::MetricsEndpoint>* endpoint) {
  if (o.metrics_listen.empty()) return 0;
  *metrics = std::make_unique<rp::sim::ClientMetrics>();
  auto started = rp::sim::MetricsEndpoint::Start(o.metrics_listen, metrics->get());
  if (!started.ok()) {
    std::cerr << "rp-sim: " << started.status().message() << "\n";
    return 2;
  }
  *endpoint = std::move(started.value());
  o.client_metrics = metrics->get();
  std::printf("rp-sim: client metrics on %s\n", (*endpoint)->url().c_str());
  return 0;
}

// "a,b,c" into scheme names; false (said on stderr) for an unknown one.
bool SchemeList(const std::string& text, std::vector<std::string>* out) {
  std::stringstream list(text);
  for (std::string s; std::getline(list, s, ',');) {
    if (rp::FindClaimScheme(s) == nullptr) {
      std::cerr << "rp-sim: unknown claim scheme '" << s << "'\n";
      return false;
    }
    out->push_back(s);
  }
  return !out->empty();
}

std::string GatedFigureKeys() {
  return rp::sim::GatedFigureKeys();
}

std::optional<std::pair<std::string, double>> ParseTolerance(const std::string& text) {
  return rp::sim::ParseTolerance(text);
}

CLI::Validator ToleranceValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (ParseTolerance(text)) return "";
        return "expected FIGURE=FRACTION (0..10) with FIGURE one of " + GatedFigureKeys() +
               "; got '" + text + "'";
      },
      "FIGURE=FRACTION");
}

int Demo(const std::string& target, rp::sim::DemoOptions options) {
  if (!rp::sim::ParseHttpUrl(target, &options.host, &options.port)) {
    std::cerr << "rp-sim: --target must look like http://HOST:PORT\n";
    return 2;
  }
  const char* auth = std::getenv("RP_AUTH_SECRET");
  const char* pay = std::getenv("RP_PAYMENT_SECRET");
  if (!auth || !pay || options.port <= 0) {
    std::cerr << "rp-sim: needs RP_AUTH_SECRET and RP_PAYMENT_SECRET (the server's secrets) and a "
                 "port in --target\n";
    return 2;
  }
  options.auth_secret = auth;
  options.payment_secret = pay;
  return rp::sim::RunDemoFlow(options);
}

}  // namespace

// SIGINT/SIGTERM are handled on one thread: the processes rp-sim started go down with it
// (SIGKILL), and it exits 130, instead of leaving a server, a mock and a Redis behind.
void HandleStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // Before any thread: all inherit the mask.
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "\nrp-sim: signal %d: stopping the processes it started\n", sig);
    rp::sim::KillStartedProcesses();
    std::_Exit(130);
  }).detach();
}

int Main(int argc, char** argv);

// The last line of defence for "never a crash on bad input": a JSON or YAML file of the wrong
// shape that some reader did not check is a clear message and exit 2, not an abort.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "rp-sim: a JSON input is malformed: " << e.what() << "\n";
  } catch (const YAML::Exception& e) {
    std::cerr << "rp-sim: a YAML input is malformed: " << e.what() << "\n";
  }
  rp::sim::KillStartedProcesses();
  return 2;
}

int Main(int argc, char** argv) {
  HandleStopSignals();
  CLI::App cli{"rp-sim: Redpacket Lab traffic simulator"};
  cli.set_version_flag("--version", rp::VersionLine("rp-sim"));
  cli.require_subcommand(1);

  rp::sim::RunOptions run;
  CLI::App* run_cmd = cli.add_subcommand(
      "run",
      "Run a scenario; exit 0 pass, 1 fail (a check, an unanswered request the scenario does not "
      "budget, or the money), 2 error");
  AddRunOptions(run_cmd, run);
  AddExactOptions(run_cmd, run);
  run_cmd->add_option("--claim-scheme", run.claim_scheme, "Override the scenario's claim scheme")
      ->check(CLI::IsMember(rp::ClaimSchemeNames()));
  run_cmd
      ->add_option("--campaign-seed", run.campaign_seed,
                   "Run what this seed of `rp-sim campaign` drew from the scenario (its scheme, "
                   "load and fault timeline; with the campaign's --ledger/--instances, which "
                   "decide the faults it could draw)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 62));

  rp::sim::CampaignOptions campaign;
  CLI::App* campaign_cmd = cli.add_subcommand(
      "campaign",
      "Run many seeds, each with its own drawn scheme, load and fault timeline — drawn from every "
      "fault the run's system supports (the file's system, or --ledger/--instances: PostgreSQL "
      "adds db_crash/db_restart, several instances instance_kill/instance_restart) — verifying "
      "the money of every one; exit 1 when a seed failed");
  AddRunOptions(campaign_cmd, campaign.run);
  campaign_cmd
      ->add_option("--claim-scheme", campaign.run.claim_scheme,
                   "Every seed under this claim scheme (its load and faults drawn as without it)")
      ->check(CLI::IsMember(rp::ClaimSchemeNames()));
  campaign_cmd->add_option("--seeds", campaign.seeds, "How many seeds")
      ->check(CLI::Range(1, 100000));
  campaign_cmd->add_option("--from", campaign.from_seed, "First seed")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 62));
  campaign.regressions_dir = "scenarios/regressions";
  campaign_cmd->add_option("--regressions", campaign.regressions_dir,
                           "Where each failing seed's scenario file is written (empty: nowhere)");

  rp::sim::CompareOptions compare;
  std::string schemes;
  for (const std::string& name : rp::ClaimSchemeNames()) {
    schemes += (schemes.empty() ? "" : ",") + name;
  }
  CLI::App* compare_cmd = cli.add_subcommand("compare", "Run a scenario once per claim scheme");
  AddRunOptions(compare_cmd, compare.run);
  AddExactOptions(compare_cmd, compare.run);
  compare_cmd->add_option("--schemes", schemes, "Comma-separated claim schemes");
  compare_cmd
      ->add_option("--repeats", compare.repeats,
                   "Runs per scheme (rotating order); medians and ranges, noise called noise")
      ->check(CLI::Range(1, 50));
  compare_cmd->add_flag("--saturate", compare.saturate,
                        "Closed model, one user per connection: measure what each scheme carries");

  rp::sim::RegressOptions regress;
  CLI::App* regress_cmd =
      cli.add_subcommand("regress", "Run a baseline's schemes again; exit 1 on a regression");
  AddRunOptions(regress_cmd, regress.run);
  AddExactOptions(regress_cmd, regress.run);
  CLI::Option* baseline_opt = regress_cmd->add_option(
      "--baseline", regress.baseline_dir, "Baseline folder (compare.json made by compare)");
  CLI::Option* against_opt = regress_cmd->add_option(
      "--against", regress.against_bin_dir,
      "Instead of --baseline: another build's bin folder (rp-server, rp-mock), run interleaved "
      "with this build on this machine; its runs are the baseline");
  baseline_opt->excludes(against_opt);
  regress_cmd->add_option("--server-env", regress.server_env,
                          "K=V for this build's rp-server (repeatable): A/B a server knob against "
                          "--against (the same folder) or a planted bug of the test build");
  std::string regress_schemes;
  regress_cmd->add_option("--schemes", regress_schemes,
                          "Comma-separated schemes of the baseline to run (default: all)");
  regress_cmd->add_option("--repeats", regress.repeats, "Runs per scheme; the median is judged")
      ->check(CLI::Range(1, 50));
  std::vector<std::string> tolerances;
  regress_cmd
      ->add_option("--tolerance", tolerances,
                   "FIGURE=FRACTION: a gated figure's allowed change (repeatable), e.g. "
                   "cpu_ms_per_claim=0.1; figures: " +
                       GatedFigureKeys())
      ->check(ToleranceValidator());
  regress_cmd
      ->add_option("--significance", regress.gate.significance,
                   "Mann-Whitney p below which throughput and p99 changes are gated")
      ->check(rp::options::FiniteRange(0.0001, 0.5));

  rp::sim::CapacityOptions capacity;
  CLI::App* capacity_cmd = cli.add_subcommand(
      "capacity",
      "Step the scenario's full journey mix up until a route breaks the SLO; report the knee per "
      "route and write limits.yaml (rate limits sized from it) into the results folder; exit 0 "
      "with a knee, 1 if the money did not verify, 2 when no step stayed within the SLO");
  AddRunOptions(capacity_cmd, capacity.run);
  capacity_cmd->add_option("--start-rate", capacity.start_rate, "Journeys/s of the first step")
      ->check(rp::options::FiniteRange(1.0, 1e6));
  capacity_cmd->add_option("--factor", capacity.factor, "Each step's rate over the previous one")
      ->check(rp::options::FiniteRange(1.05, 10.0));
  capacity_cmd->add_option("--steps", capacity.steps, "Steps at most")->check(CLI::Range(2, 50));
  capacity_cmd->add_option("--step-s", capacity.step_s, "Seconds per step")
      ->check(CLI::Range(2, 600));
  capacity_cmd->add_option("--slo-p99-ms", capacity.slo_p99_ms, "p99 every route must keep")
      ->check(rp::options::FiniteRange(0.01, 60000.0));
  capacity_cmd
      ->add_option("--error-rate-max", capacity.error_percent_max,
                   "Errors every route must stay under, in %")
      ->check(rp::options::FiniteRange(0.0, 100.0));
  capacity_cmd
      ->add_option("--headroom", capacity.headroom, "Limits at this share of the knee's throughput")
      ->check(rp::options::FiniteRange(0.1, 1.0));

  std::string report_dir;
  CLI::App* report_cmd = cli.add_subcommand(
      "report", "Write report.html of a results folder (again, or for an old one)");
  report_cmd->add_option("results", report_dir, "Results folder (summary.json, the CSVs)")
      ->required()
      ->check(CLI::ExistingDirectory);

  rp::sim::RawLoadOptions raw;
  CLI::App* load_cmd =
      cli.add_subcommand("load", "Closed-loop GETs with the load engine alone (vs wrk)");
  load_cmd->add_option("--target", raw.target, "Server URL")->required();
  load_cmd->add_option("--path", raw.path, "Request path");
  load_cmd->add_option("--connections", raw.connections, "Keep-alive connections")
      ->check(CLI::Range(1, 20000));
  load_cmd->add_option("--duration", raw.duration_s, "Seconds")->check(CLI::Range(1, 3600));

  rp::sim::DemoOptions demo;
  std::string target;
  CLI::App* demo_cmd = cli.add_subcommand("demo", "Run the scripted core flow against a server");
  demo_cmd->add_option("--target", target, "Server URL, e.g. http://127.0.0.1:8080")->required();
  demo_cmd->add_option("--mocks", demo.mocks_url, "rp-mock URL the server uses (B2C, recon)");
  demo_cmd->add_option("--claimers", demo.claimers, "Concurrent claimers per packet")
      ->check(CLI::Range(1, 1000));
  demo_cmd->add_option("--expiry-wait", demo.expiry_wait_s_max, "Seconds to wait for expiry")
      ->check(CLI::Range(1, 3600));
  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;

  std::unique_ptr<rp::sim::ClientMetrics> client_metrics;
  std::unique_ptr<rp::sim::MetricsEndpoint> metrics_endpoint;
  rp::sim::RunOptions& chosen = *run_cmd        ? run
                                : *compare_cmd  ? compare.run
                                : *regress_cmd  ? regress.run
                                : *campaign_cmd ? campaign.run
                                                : capacity.run;
  if (*run_cmd || *compare_cmd || *regress_cmd || *capacity_cmd || *campaign_cmd) {
    if (int rc = StartClientMetrics(chosen, &client_metrics, &metrics_endpoint); rc != 0) return rc;
  }
  if (*run_cmd) return rp::sim::RunScenario(run);
  if (*campaign_cmd) return rp::sim::RunCampaign(campaign);
  if (*compare_cmd) {
    if (!SchemeList(schemes, &compare.schemes)) return 2;
    return rp::sim::RunCompare(compare);
  }
  if (*regress_cmd) {
    if (!regress_schemes.empty() && !SchemeList(regress_schemes, &regress.schemes)) return 2;
    if (regress.baseline_dir.empty() == regress.against_bin_dir.empty()) {
      std::cerr << "rp-sim: regress needs --baseline DIR (a compare.json) or --against BIN_DIR "
                   "(another build, run interleaved)\n";
      return 2;
    }
    for (const std::string& t : tolerances) regress.gate.tolerances.push_back(*ParseTolerance(t));
    return rp::sim::RunRegress(regress);
  }
  if (*capacity_cmd) return rp::sim::RunCapacity(capacity);
  if (*load_cmd) return rp::sim::RunRawLoad(raw);
  if (*report_cmd) {
    if (rp::Status st = rp::sim::WriteRunReportHtml(report_dir); !st.ok()) {
      std::cerr << "rp-sim: " << st.message() << "\n";
      return 2;
    }
    std::printf("rp-sim: %s/report.html\n", report_dir.c_str());
    return 0;
  }
  return Demo(target, demo);
}
