#pragma once
// The directory every run writes: the resolved run card (runcard.toml), a metrics.jsonl stream, the
// checkpoint, a results.json summary and a log (run.log), plus what later commands add (eval-TxL.json,
// samples.npy, plots). A run never overwrites what an earlier run wrote unless asked to (--force);
// --resume continues a run in its own directory.
//
// A process that writes a run (train, run, hmc, a study's run) holds an advisory lock on it (flock on
// RUN_DIR/.lock) for as long as it works there; a second one is refused at once with the first one's pid,
// so two writers never mix their files. The lock dies with its process, even on kill -9.
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace latflow {

class RunDirectory {
 public:
  /// Fresh: the directory must not hold an earlier run. Force: an earlier run's files are removed.
  /// Resume: the directory must hold a run (its runcard.toml; a run killed before its first checkpoint has
  /// none and restarts from step 0). These three take the lock. Read: an existing run, to which evaluations
  /// add files (no lock: a finished checkpoint is only ever replaced atomically).
  enum class Mode { Fresh, Force, Resume, Read };

  RunDirectory(const std::string& path, Mode mode);
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoint() const { return file("checkpoint.pt"); }

  /// Writes `name` atomically (core/files.hpp).
  void write_file(const std::string& name, const std::string& content) const;
  void write_json(const std::string& name, const nlohmann::json& j) const { write_file(name, j.dump(2) + "\n"); }
  /// Appends one record to metrics.jsonl (flushed, so a crash loses nothing written before it).
  void append_metrics(const nlohmann::json& record);
  /// Drops metrics records past `step` (a resumed run rewrites them).
  void truncate_metrics(std::int64_t step);
  /// One line to run.log, prefixed with the time.
  void log(const std::string& line);

 private:
  /// The flock, released when closed (also when the constructor throws after taking it).
  struct Lock {
    int fd = -1;
    ~Lock();
  };
  std::string path_;
  Lock lock_;
  std::ofstream metrics_;
  std::ofstream log_;
};

/// Whether `path` holds files of an earlier run (any of those a run directory may hold).
bool holds_run(const std::string& path);

}  // namespace latflow
