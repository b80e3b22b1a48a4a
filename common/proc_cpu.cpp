#include "common/proc_cpu.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace rp {

Result<ProcStat> ParseProcStat(std::string_view line) {
  const size_t open = line.find('(');
  const size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Status(Error::kBadResults, "not a /proc/PID/stat line");
  }
  ProcStat st;
  st.pid = static_cast<pid_t>(std::atol(std::string(line.substr(0, open)).c_str()));
  // After the name: field 3 (state) is token 0, so field N is token N - 3.
  std::istringstream rest{std::string(line.substr(close + 1))};
  std::vector<std::string> tokens;
  for (std::string t; tokens.size() < 15 && rest >> t;) tokens.push_back(t);
  if (st.pid <= 0 || tokens.size() < 15) return Status(Error::kBadResults, "short /proc/PID/stat");
  auto field = [&tokens](int n) { return std::atoll(tokens[static_cast<size_t>(n - 3)].c_str()); };
  st.ppid = static_cast<pid_t>(field(4));
  st.own_ticks = field(14) + field(15);
  st.reaped_ticks = field(16) + field(17);
  return st;
}

double TreeCpuTicks(pid_t root, const std::map<pid_t, ProcStat>& table) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, st] : table) children.emplace(st.ppid, pid);
  double ticks = 0;
  std::vector<pid_t> todo{root};
  // Bounded: each pid is visited once (a pid is one node; ppid links form a tree).
  for (size_t i = 0; i < todo.size() && i < table.size() + 1; ++i) {
    auto it = table.find(todo[i]);
    if (it == table.end()) continue;
    ticks += static_cast<double>(it->second.own_ticks + it->second.reaped_ticks);
    auto [from, to] = children.equal_range(todo[i]);
    for (auto c = from; c != to; ++c) todo.push_back(c->second);
  }
  return ticks;
}

namespace {

std::map<pid_t, ProcStat> ReadProcTable() {
  std::map<pid_t, ProcStat> table;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return table;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;  // Ended since the listing: gone.
    Result<ProcStat> st = ParseProcStat(line);
    if (st.ok()) table[st->pid] = *st;
  }
  closedir(dir);
  return table;
}

}  // namespace

std::map<std::string, double> ThreadCpuSeconds(pid_t pid) {
  std::map<std::string, double> out;
  const std::string dir_path = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return out;
  const double ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(dir_path + "/" + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    Result<ProcStat> st = ParseProcStat(line);
    const size_t open = line.find('('), close = line.rfind(')');
    if (!st.ok() || open == std::string::npos) continue;
    std::string name = line.substr(open + 1, close - open - 1);
    while (!name.empty() && name.back() >= '0' && name.back() <= '9') name.pop_back();
    out[name] += static_cast<double>(st->own_ticks) / ticks_per_s;
  }
  closedir(dir);
  return out;
}

Result<double> ProcessTreeCpuSeconds(pid_t root) {
  const std::map<pid_t, ProcStat> table = ReadProcTable();
  if (table.find(root) == table.end()) {
    return Status(Error::kStartFailed, "no process " + std::to_string(root));
  }
  return TreeCpuTicks(root, table) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace rp
