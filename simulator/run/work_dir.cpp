#include "simulator/run/work_dir.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace rp::sim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPidFile = "rp-sim.pid";
constexpr int kPostgresDepthMax = 3;  // work/pg/data/postmaster.pid

std::string TempRoot() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

bool Alive(pid_t pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

// Alive and still an rp-sim (a pid may have been reused since).
bool RpSimAlive(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return Alive(pid) && (!comm || name == "rp-sim");
}

// The first line of a pid file (PostgreSQL's postmaster.pid starts with the pid too); 0 if none.
pid_t ReadPid(const fs::path& file) {
  std::ifstream in(file);
  long pid = 0;
  in >> pid;
  return in ? static_cast<pid_t>(pid) : 0;
}

// PostgreSQL servers still running inside dir: each gets an immediate shutdown (SIGQUIT).
std::vector<pid_t> StopPostgres(const fs::path& dir) {
  std::vector<pid_t> stopped;
  std::error_code ec;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it.depth() > kPostgresDepthMax) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() != "postmaster.pid") continue;
    const pid_t pid = ReadPid(it->path());
    if (Alive(pid) && kill(pid, SIGQUIT) == 0) stopped.push_back(pid);
  }
  return stopped;
}

}  // namespace

Result<std::string> MakeWorkDir() {
  std::string tmpl = TempRoot() + "/rp-sim-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Status(Error::kInternal, "cannot create a work folder under " + TempRoot());
  }
  std::ofstream(tmpl + "/" + kPidFile) << getpid() << "\n";
  return tmpl;
}

void EndWorkDir(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / kPidFile, ec);
}

std::vector<std::string> CleanUpStaleWorkDirs() {
  std::vector<std::string> found;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(TempRoot(), ec)) {
    if (e.path().filename().string().rfind("rp-sim-", 0) != 0) continue;
    const fs::path pid_file = e.path() / kPidFile;
    const pid_t owner = ReadPid(pid_file);
    if (owner == 0 || RpSimAlive(owner)) continue;
    std::string line = e.path().string() + ": left by rp-sim " + std::to_string(owner) +
                       ", which is gone (killed?)";
    for (pid_t pg : StopPostgres(e.path())) {
      line += "; stopped the PostgreSQL it left running (pid " + std::to_string(pg) + ")";
    }
    line += "; the ledger and logs are kept there, remove the folder when done";
    fs::remove(pid_file, ec);
    found.push_back(std::move(line));
  }
  return found;
}

}  // namespace rp::sim
