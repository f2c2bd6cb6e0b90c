#include "experiments/progress.hpp"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include <unistd.h>

namespace latflow {

std::string format_duration(double s) {
  if (!(s >= 0)) return "?";
  const auto total = static_cast<long long>(s + 0.5);
  char buf[32];
  if (total >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  else if (total >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  else std::snprintf(buf, sizeof buf, "%llds", total);
  return buf;
}

bool Progress::is_terminal(int fd) { return ::isatty(fd) != 0; }

Progress::Progress(std::ostream& out, std::string label, std::int64_t total, bool terminal, double interval)
    : out_(out),
      label_(std::move(label)),
      total_(total),
      terminal_(terminal),
      interval_(interval),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(std::int64_t done, const std::string& status) {
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const bool end = done >= total_;
  if (terminal_ ? since_last < 0.1 && !end : since_last < interval_ && !end) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double eta = done > 0 ? elapsed * (1.0 - frac) / frac : -1.0;
  std::ostringstream line;
  line << label_ << " ";
  if (terminal_) {
    constexpr int width = 24;
    const int filled = static_cast<int>(frac * width);
    line << "[" << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  }
  line << done << "/" << total_ << " (" << std::fixed << std::setprecision(0) << 100 * frac << "%)  "
       << format_duration(elapsed) << " elapsed, ETA " << format_duration(eta) << "  " << status;
  if (terminal_) {
    out_ << "\r\033[K" << line.str() << std::flush;
    drawn_ = true;
  } else {
    out_ << line.str() << "\n" << std::flush;
  }
}

void Progress::message(const std::string& line) {
  if (terminal_ && drawn_) out_ << "\r\033[K";
  out_ << line << "\n" << std::flush;
  drawn_ = false;
}

void Progress::finish() {
  if (terminal_ && drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace latflow
