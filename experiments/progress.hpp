#pragma once
// Progress of a long loop (training, HMC): on a terminal a single self-updating line with a bar, the
// rate, the ETA and a few live numbers; otherwise (logs, CI) a plain line every `interval` seconds.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace latflow {

class Progress {
 public:
  Progress(std::ostream& out, std::string label, std::int64_t total, bool terminal, double interval = 10.0);
  /// Reports `done` of `total` units with `status` (e.g. "loss -12.3  ESS 0.45").
  void update(std::int64_t done, const std::string& status);
  /// Ends the line on a terminal.
  void finish();
  /// Prints a message without garbling the bar.
  void message(const std::string& line);

  /// Whether stdout/stderr is an interactive terminal.
  static bool is_terminal(int fd);

 private:
  std::ostream& out_;
  std::string label_;
  std::int64_t total_;
  bool terminal_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace latflow
