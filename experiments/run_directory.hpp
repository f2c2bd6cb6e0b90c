#pragma once
// The directory every run writes: the resolved run card (runcard.toml), a metrics.jsonl stream, the
// checkpoint, a results.json summary and a log (run.log). A run never overwrites what an earlier run wrote
// unless asked to (--force); --resume continues a run in its own directory.
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace latflow {

class RunDirectory {
 public:
  enum class Mode { Fresh, Force, Resume };

  /// Fresh: the directory must not hold an earlier run. Force: an earlier run's files are removed.
  /// Resume: the directory must hold a run (its checkpoint).
  RunDirectory(const std::string& path, Mode mode);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoint() const { return file("checkpoint.pt"); }

  /// Writes `name` atomically (temporary file, then rename).
  void write_file(const std::string& name, const std::string& content) const;
  void write_json(const std::string& name, const nlohmann::json& j) const { write_file(name, j.dump(2) + "\n"); }
  /// Appends one record to metrics.jsonl (flushed, so a crash loses nothing written before it).
  void append_metrics(const nlohmann::json& record);
  /// Drops metrics records past `step` (a resumed run rewrites them).
  void truncate_metrics(std::int64_t step);
  /// One line to run.log, prefixed with the time.
  void log(const std::string& line);

 private:
  std::string path_;
  std::ofstream metrics_;
  std::ofstream log_;
};

/// Writes `content` to `path` through a temporary file and a rename, so readers never see half a file.
void write_file_atomically(const std::string& path, const std::string& content);

/// The files a run directory may hold; any of them present marks an earlier run.
bool holds_run(const std::string& path);

}  // namespace latflow
