#include "simulator/run/work_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace rp::sim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPidFile = "rp-sim.pid";

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

// A folder rp-sim could have made for this user: a directory itself (not a symlink to one),
// owned by us, closed to everyone else (mkdtemp's 0700). Anyone may create rp-sim-* folders in a
// shared TMPDIR; what is in one that fails this says nothing about a run of ours.
bool OurPrivateDir(const fs::path& dir) {
  struct stat st {};
  return lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 077) == 0;
}

// The pid in a pid file of ours (a regular file we own, not a symlink); 0 if none.
pid_t ReadOurPid(const fs::path& file) {
  const int fd = open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st {};
  char text[32] = {};
  const bool ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid();
  const ssize_t got = ours ? read(fd, text, sizeof text - 1) : -1;
  close(fd);
  if (got <= 0) return 0;
  const long pid = std::strtol(text, nullptr, 10);
  return pid > 0 && pid < (1L << 22) ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

Result<std::string> MakePrivateTempDir(const std::string& prefix) {
  std::string tmpl = TempRoot() + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Status(Error::kInternal, "cannot create a folder " + prefix + "-* under " + TempRoot() +
                                        ": " + std::strerror(errno));
  }
  return tmpl;
}

Result<std::string> MakeWorkDir() {
  Result<std::string> made = MakePrivateTempDir("rp-sim");
  if (!made.ok()) return made.status();
  const std::string& tmpl = *made;
  const std::string pid_file = tmpl + "/" + kPidFile;
  const int fd = open(pid_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const std::string pid = std::to_string(getpid()) + "\n";
  const bool written =
      fd >= 0 && write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
  if (fd >= 0) close(fd);
  if (!written) return Status(Error::kInternal, "cannot write " + pid_file);
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
    if (!OurPrivateDir(e.path())) continue;
    const fs::path pid_file = e.path() / kPidFile;
    const pid_t owner = ReadOurPid(pid_file);
    if (owner == 0 || RpSimAlive(owner)) continue;
    std::string line = e.path().string() + ": left by rp-sim " + std::to_string(owner) +
                       ", which is gone (killed?); the ledger and logs are kept there";
    // As root, PostgreSQL's cluster lives outside the folder (common/pg_process.h).
    const fs::path cluster = fs::read_symlink(e.path() / "pg" / "data", ec);
    if (!ec) line += " (PostgreSQL's cluster in " + cluster.parent_path().string() + ")";
    line += ", remove the folder when done";
    fs::remove(pid_file, ec);
    found.push_back(std::move(line));
  }
  return found;
}

}  // namespace rp::sim
