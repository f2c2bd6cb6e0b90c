#include "experiments/local_launch.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/error.hpp"

extern char** environ;

namespace latflow::cli {

namespace {

std::atomic<int> g_signal{0};
extern "C" void remember_signal(int sig) { g_signal = sig; }
struct sigaction g_old_int {}, g_old_term{};
int g_instances = 0;

/// A TCP port on loopback that nothing listens on now (the kernel's pick); rank 0 binds it a moment later.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw UserError(std::string("--nproc: cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) throw UserError(std::string("--nproc: cannot bind a loopback port: ") + std::strerror(errno));
  return ntohs(a.sin_port);
}

std::string self_executable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw UserError("cannot find this executable (/proc/self/exe) to start its worker processes");
  return std::string(buf, static_cast<std::size_t>(n));
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

ChildProcesses::ChildProcesses() {
  if (g_instances++ == 0) {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = remember_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
  }
}

ChildProcesses::~ChildProcesses() {
  for (std::size_t i = 0; i < pids_.size(); ++i)
    if (!done_[i]) {
      ::kill(pids_[i], SIGKILL);
      ::waitpid(pids_[i], nullptr, 0);
    }
  if (--g_instances == 0) {
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
  }
}

int ChildProcesses::spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& log_file) {
  static const std::string exe = self_executable();
  std::vector<std::string> argv_text = {exe};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    bool replaced = false;
    for (const auto& mine : env) replaced |= kv.compare(0, mine.find('=') + 1, mine, 0, mine.find('=') + 1) == 0;
    if (!replaced) env_text.push_back(kv);
  }
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& kv : env_text) envp.push_back(kv.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw UserError("cannot start a worker process (" + exe + "): " + std::strerror(rc));
  pids_.push_back(pid);
  done_.push_back(false);
  return static_cast<int>(pids_.size()) - 1;
}

std::optional<std::pair<int, int>> ChildProcesses::wait_any(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (const int sig = g_signal.load(); sig != 0 && sig != forwarded_) {
      signal_running(sig);
      forwarded_ = sig;
    }
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (done_[i]) continue;
      int status = 0;
      if (::waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
        done_[i] = true;
        return std::make_pair(static_cast<int>(i), exit_status(status));
      }
    }
    if (running() == 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ChildProcesses::signal_running(int sig) {
  for (std::size_t i = 0; i < pids_.size(); ++i)
    if (!done_[i]) ::kill(pids_[i], sig);
}

int ChildProcesses::running() const {
  int n = 0;
  for (const bool d : done_) n += d ? 0 : 1;
  return n;
}

bool ChildProcesses::interrupted() const { return g_signal.load() != 0; }

int launch_local_ranks(int nproc, const std::vector<std::string>& args, double timeout_seconds, std::ostream& err) {
  const std::string port = std::to_string(free_loopback_port());
  ChildProcesses ranks;
  for (int r = 0; r < nproc; ++r)
    ranks.spawn(args, {"RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(nproc),
                       "LOCAL_RANK=" + std::to_string(r), "LOCAL_WORLD_SIZE=" + std::to_string(nproc),
                       "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port});
  using clock = std::chrono::steady_clock;
  // After a rank fails the others get the collectives' timeout to notice, plus a grace period; then
  // SIGTERM, and SIGKILL 10 s later.
  const auto grace = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_seconds + 30));
  std::vector<int> codes(static_cast<std::size_t>(nproc), -1);
  std::optional<clock::time_point> failed_at;
  bool terminated = false;
  while (ranks.running() > 0) {
    if (const auto ended = ranks.wait_any(std::chrono::milliseconds(200))) {
      codes[static_cast<std::size_t>(ended->first)] = ended->second;
      if (ended->second != 0 && !failed_at) failed_at = clock::now();
    }
    if (!failed_at) continue;
    const auto since = clock::now() - *failed_at;
    if (!terminated && since > grace) {
      err << "latflow: --nproc: a rank failed and " << ranks.running()
          << " did not stop within distributed.timeout + 30 s; terminating them\n";
      ranks.signal_running(SIGTERM);
      terminated = true;
    }
    if (since > grace + std::chrono::seconds(10)) ranks.signal_running(SIGKILL);
  }
  if (codes[0] != 0) return codes[0];
  for (const int c : codes)
    if (c != 0) return c;
  return 0;
}

std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name,
                                        const std::vector<std::string>& drop_flags) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == name) {
      ++i;
      continue;
    }
    if (a.rfind(name + "=", 0) == 0) continue;
    bool drop = false;
    for (const auto& f : drop_flags) drop |= a == f;
    if (!drop) out.push_back(a);
  }
  return out;
}

}  // namespace latflow::cli
