#include "experiments/run_directory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace latflow {

namespace {

// What runs and the commands working on them write into a run directory.
const char* const kRunFiles[] = {"runcard.toml", "metrics.jsonl", "checkpoint.pt", "results.json", "run.log",
                                 "samples.npy",  "quickstart.png", "quickstart.pdf"};

bool is_run_output(const std::string& name) {
  for (const char* f : kRunFiles)
    if (name == f) return true;
  const auto has = [&](const char* prefix, const char* suffix) {
    const std::string p = prefix, s = suffix;
    return name.size() >= p.size() + s.size() && name.compare(0, p.size(), p) == 0 &&
           name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  // Evaluations, and the temporary files of writers that were killed mid-write.
  return has("eval-", ".json") || name.find(".tmp.") != std::string::npos;
}

std::vector<std::string> run_outputs(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (is_run_output(e.path().filename().string())) out.push_back(e.path().string());
  return out;
}

}  // namespace

bool holds_run(const std::string& path) { return !run_outputs(path).empty(); }

RunDirectory::RunDirectory(const std::string& path, Mode mode) : path_(path) {
  std::error_code ec;
  if (fs::exists(path_) && !fs::is_directory(path_))
    throw UserError("run directory '" + path_ + "' exists and is not a directory");
  if (mode == Mode::Read) {
    if (!fs::exists(file("runcard.toml"))) throw UserError("'" + path_ + "' is not a run directory (no runcard.toml)");
    return;
  }
  fs::create_directories(path_, ec);
  if (ec) throw UserError("cannot create run directory '" + path_ + "': " + ec.message());

  lock_.fd = ::open(file(".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (lock_.fd < 0) throw UserError("cannot write in run directory '" + path_ + "': " + std::strerror(errno));
  if (::flock(lock_.fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    if (::pread(lock_.fd, pid, sizeof pid - 1, 0) < 0) pid[0] = '\0';
    ::close(lock_.fd);
    lock_.fd = -1;
    std::string who = pid;
    who = who.substr(0, who.find('\n'));
    throw UserError("run directory '" + path_ + "' is in use by another latflow process" +
                    (who.empty() ? std::string() : " (pid " + who + ")") +
                    "; wait for it to finish, stop it, or use another directory (--out DIR)");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.fd, 0) != 0 || ::pwrite(lock_.fd, me.data(), me.size(), 0) < 0) {
    // The pid is only a courtesy for the message above; the lock itself holds.
  }

  switch (mode) {
    case Mode::Fresh:
      if (holds_run(path_))
        throw UserError("'" + path_ + "' already holds a run; use --force to overwrite it, --resume to "
                        "continue it, or --out DIR for another directory");
      break;
    case Mode::Force:
      for (const auto& f : run_outputs(path_)) fs::remove(f, ec);
      break;
    case Mode::Resume:
      if (!fs::exists(file("runcard.toml")))
        throw UserError("cannot resume: '" + path_ + "' holds no run (no runcard.toml)");
      break;
    case Mode::Read:
      break;
  }
  metrics_.open(file("metrics.jsonl"), std::ios::app);
  log_.open(file("run.log"), std::ios::app);
  if (!metrics_ || !log_) throw UserError("cannot write in run directory '" + path_ + "'");
}

RunDirectory::Lock::~Lock() {
  if (fd >= 0) ::close(fd);  // releases the flock
}

void RunDirectory::write_file(const std::string& name, const std::string& content) const {
  write_file_atomically(file(name), content);
}

void RunDirectory::append_metrics(const nlohmann::json& record) {
  metrics_ << record.dump() << "\n";
  metrics_.flush();
  if (!metrics_) throw UserError("cannot append to '" + file("metrics.jsonl") + "' (disk full?)");
}

void RunDirectory::truncate_metrics(std::int64_t step) {
  std::ifstream in(file("metrics.jsonl"));
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;  // a line torn by a crash
    if (j.value("step", std::int64_t{0}) <= step) kept << line << "\n";
  }
  metrics_.close();
  write_file("metrics.jsonl", kept.str());
  metrics_.open(file("metrics.jsonl"), std::ios::app);
}

void RunDirectory::log(const std::string& line) {
  if (!log_.is_open()) return;
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  log_ << std::put_time(&tm, "%Y-%m-%d %H:%M:%S ") << line << "\n";
  log_.flush();
}

}  // namespace latflow
