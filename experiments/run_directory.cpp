#include "experiments/run_directory.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <vector>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace latflow {

namespace {
const char* const kRunFiles[] = {"runcard.toml", "metrics.jsonl", "checkpoint.pt", "results.json", "run.log"};
}

bool holds_run(const std::string& path) {
  for (const char* f : kRunFiles)
    if (fs::exists(fs::path(path) / f)) return true;
  return false;
}

RunDirectory::RunDirectory(const std::string& path, Mode mode) : path_(path) {
  std::error_code ec;
  if (fs::exists(path_) && !fs::is_directory(path_))
    throw UserError("run directory '" + path_ + "' exists and is not a directory");
  switch (mode) {
    case Mode::Fresh:
      if (holds_run(path_))
        throw UserError("'" + path_ + "' already holds a run; use --force to overwrite it, --resume to "
                        "continue it, or --out DIR for another directory");
      break;
    case Mode::Force:
      for (const char* f : kRunFiles) fs::remove(fs::path(path_) / f, ec);
      break;
    case Mode::Resume:
      if (!fs::exists(checkpoint()))
        throw UserError("cannot resume: '" + path_ + "' holds no checkpoint (checkpoint.pt)");
      break;
  }
  fs::create_directories(path_, ec);
  if (ec) throw UserError("cannot create run directory '" + path_ + "': " + ec.message());
  metrics_.open(file("metrics.jsonl"), std::ios::app);
  log_.open(file("run.log"), std::ios::app);
  if (!metrics_ || !log_) throw UserError("cannot write in run directory '" + path_ + "'");
}

void RunDirectory::write_file(const std::string& name, const std::string& content) const {
  write_file_atomically(file(name), content);
}

void write_file_atomically(const std::string& target, const std::string& content) {
  const std::string tmp = target + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) throw UserError("cannot write '" + target + "'");
  }
  fs::rename(tmp, target);
}

void RunDirectory::append_metrics(const nlohmann::json& record) {
  metrics_ << record.dump() << "\n";
  metrics_.flush();
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
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  log_ << std::put_time(&tm, "%Y-%m-%d %H:%M:%S ") << line << "\n";
  log_.flush();
}

}  // namespace latflow
