// rp-sim as a child process, for the end-to-end suites: run the real binary (RP_SIM_BIN, set by
// the suite's CMake target) with arguments and environment, and collect what it printed.
#pragma once

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process/process.h"
#include "tests/util/temp_dir.h"

namespace rp::testing {

using nlohmann::json;

// What one rp-sim run left behind: its exit code (-1: it could not be started or waited for).
struct SimRun {
  int exit_code = -1;
  std::string output;  // stdout and the tail of stderr's file.
};

// Runs rp-sim with args (and env, NAME=VALUE) in dir; waits up to 10 minutes for its output.
inline SimRun RunSim(const std::vector<std::string>& args, const TempDir& dir,
                     const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {RP_SIM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  SimRun run;
  auto child = ChildProcess::Spawn(argv, env, dir.File("sim.stderr"));
  if (!child.ok()) return run;
  for (;;) {  // Drain stdout so the simulator never blocks on a full pipe.
    auto line = child->ReadLine(600000);
    if (!line.ok()) break;
    run.output += *line + "\n";
  }
  auto code = child->Wait(60000);
  run.exit_code = code.ok() ? *code : -1;
  std::ifstream err(dir.File("sim.stderr"));
  run.output += std::string(std::istreambuf_iterator<char>(err), {});
  return run;
}

inline json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}
}  // namespace rp::testing
