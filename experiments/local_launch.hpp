#pragma once
// Processes that latflow starts from itself on one machine: the ranks of `latflow train --nproc N`, and
// the workers of `latflow scaling|transfer --workers N`. Each is this executable again with other arguments.
//
// `--nproc N` gives its copies the environment torchrun would (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR = 127.0.0.1 and a free MASTER_PORT). When one rank fails, the others stop on
// their own (core/distributed.hpp) within distributed.timeout; any still running after that and a grace
// period are terminated, so the launcher never hangs either.
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace latflow::cli {

/// Child processes of this executable. While alive, SIGINT and SIGTERM reaching this process are passed on
/// to the running children (whose own handlers checkpoint and stop) instead of ending it; the destructor
/// restores the handlers and kills and reaps any child still running.
class ChildProcesses {
 public:
  ChildProcesses();
  ~ChildProcesses();
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;

  /// Starts this executable with `args` (without the program name) and `env` ("NAME=value", replacing
  /// those names) added to this process's environment; stdout and stderr go to `log_file`, or are
  /// inherited when it is empty. Returns the child's id (0, 1, ... in start order).
  int spawn(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
            const std::string& log_file = "");
  /// Waits at most `wait` for a child to end: {id, exit status (128 + signal when killed)}.
  std::optional<std::pair<int, int>> wait_any(std::chrono::milliseconds wait);
  void signal_running(int sig);
  int running() const;
  /// Whether SIGINT or SIGTERM reached this process since construction.
  bool interrupted() const;

 private:
  std::vector<pid_t> pids_;
  std::vector<bool> done_;
  int forwarded_ = 0;
};

/// Runs `args` (argv without the program and without --nproc) as `nproc` local ranks; returns rank 0's
/// exit status if it failed, else the first failing rank's, else 0.
int launch_local_ranks(int nproc, const std::vector<std::string>& args, double timeout_seconds, std::ostream& err);

/// `args` without the option `name` and its value (as "--name V" or "--name=V"), and without the flags in
/// `drop_flags`.
std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name,
                                        const std::vector<std::string>& drop_flags = {});

}  // namespace latflow::cli
