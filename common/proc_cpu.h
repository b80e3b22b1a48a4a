// CPU time the kernel has charged to a tree of processes, read from /proc (Linux only). The cost
// gates divide it by the claims a run won: unlike throughput, what a process tree was charged
// does not shrink when a neighbour takes a core, so it measures what the work costs rather than
// what the machine had free. Resolution: one clock tick (sysconf(_SC_CLK_TCK), 10 ms here).
// Pure reads of /proc; thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rp {

// One line of /proc/PID/stat, the fields the tree sum needs (in clock ticks).
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  int64_t own_ticks = 0;     // utime + stime: every thread of the process, live or ended.
  int64_t reaped_ticks = 0;  // cutime + cstime: children it waited for.
};

// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses: fields
// are counted after its last ')'). BadResults when the line is not of that form.
[[nodiscard]] Result<ProcStat> ParseProcStat(std::string_view line);

// Seconds of CPU (user + system) charged to `root` and its descendants: each live process's own
// time plus the time of the children it has reaped. A child reaped inside the tree is counted
// once (its time moved into its reaper's reaped time); a descendant that ended between two reads
// and was not reaped by the tree is lost, so compare two reads of a tree whose processes live
// through the interval. StartFailed when root does not exist (it never started or has ended).
[[nodiscard]] Result<double> ProcessTreeCpuSeconds(pid_t root);

// Seconds of CPU charged to each live thread of `pid`, summed by thread name with trailing
// digits dropped ("rp-http-0" and "rp-http-1" count as "rp-http-"): which part of a server
// spends what (rp-server names its threads). Threads that ended are not in it. Empty when the
// process cannot be read.
std::map<std::string, double> ThreadCpuSeconds(pid_t pid);

// The same sum over an already-read process table (pid -> stat), for tests.
[[nodiscard]] double TreeCpuTicks(pid_t root, const std::map<pid_t, ProcStat>& table);

}  // namespace rp
