#include "lattice/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include <unsupported/Eigen/FFT>

#include "core/error.hpp"

namespace latflow::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Log weights may be -inf (zero weight) but never NaN or +inf, and not all -inf.
void check_log_weights(const std::vector<double>& log_w, const char* who) {
  bool any_finite = false;
  for (double lw : log_w) {
    if (std::isnan(lw) || lw == kInf)
      throw UserError(std::string(who) + ": log weights must be finite or -inf (zero weight), got " +
                      std::to_string(lw));
    any_finite = any_finite || std::isfinite(lw);
  }
  if (!log_w.empty() && !any_finite)
    throw UserError(std::string(who) + ": every log weight is -inf (all samples have zero weight)");
}

void check_finite(const std::vector<double>& x, const char* who) {
  for (double v : x)
    if (!std::isfinite(v))
      throw UserError(std::string(who) + ": data must be finite, got " + std::to_string(v));
}

double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

/// log sum_i exp(v_i), stable.
double log_sum_exp(const std::vector<double>& v) {
  const double m = max_of(v);
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

double sample_variance(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size() - 1);
}

}  // namespace

std::vector<double> normalized_weights(const std::vector<double>& log_w, std::size_t n) {
  if (log_w.empty()) return std::vector<double>(n, n ? 1.0 / static_cast<double>(n) : 0.0);
  if (log_w.size() != n)
    throw UserError("normalized_weights: " + std::to_string(log_w.size()) + " log weights for " +
                    std::to_string(n) + " samples");
  check_log_weights(log_w, "normalized_weights");
  const double m = max_of(log_w);
  std::vector<double> w(n);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += w[i] = std::exp(log_w[i] - m);
  for (double& x : w) x /= total;
  return w;
}

// ---- jackknife ---------------------------------------------------------------------------------------

BinnedMeans::BinnedMeans(std::size_t n_samples, std::size_t n_series, const std::vector<double>& log_w,
                         int n_bins)
    : n_(n_samples), k_(n_series), log_w_(log_w) {
  if (n_ < 2) throw UserError("jackknife: needs at least 2 samples, got " + std::to_string(n_));
  if (k_ < 1) throw UserError("jackknife: needs at least one series");
  if (!log_w_.empty() && log_w_.size() != n_)
    throw UserError("jackknife: " + std::to_string(log_w_.size()) + " log weights for " +
                    std::to_string(n_) + " samples");
  check_log_weights(log_w_, "jackknife");
  if (n_bins <= 0) n_bins = static_cast<int>(std::min<std::size_t>(n_, 100));
  if (n_bins < 2 || static_cast<std::size_t>(n_bins) > n_)
    throw UserError("jackknife: n_bins must be between 2 and the number of samples (" +
                    std::to_string(n_) + "), got " + std::to_string(n_bins));
  n_bins_ = n_bins;

  bin_max_.assign(n_bins_, log_w_.empty() ? 0.0 : -kInf);
  for (std::size_t i = 0; i < log_w_.size(); ++i)
    bin_max_[bin_of(i)] = std::max(bin_max_[bin_of(i)], log_w_[i]);
  argmax_bin_ = static_cast<int>(std::max_element(bin_max_.begin(), bin_max_.end()) - bin_max_.begin());
  max_ = bin_max_[argmax_bin_];
  const auto weighted_bins = std::count_if(bin_max_.begin(), bin_max_.end(),
                                           [](double m) { return std::isfinite(m); });
  if (weighted_bins < 2)
    throw UserError("jackknife: all the importance weight is in a single bin; leaving it out leaves "
                    "nothing to average");
  bin_weight_.assign(n_bins_, 0.0);
  bin_sum_.assign(static_cast<std::size_t>(n_bins_) * k_, 0.0);
  seen_.assign(n_, 0);
}

int BinnedMeans::bin_of(std::size_t sample) const {
  // Bin b starts at floor(b N / n_bins): sizes differ by at most one.
  return static_cast<int>(((sample + 1) * static_cast<std::size_t>(n_bins_) - 1) / n_);
}

void BinnedMeans::add(std::size_t sample, const double* values) {
  if (sample >= n_ || seen_[sample])
    throw std::logic_error("BinnedMeans::add: sample " + std::to_string(sample) +
                           " out of range or added twice");
  for (std::size_t j = 0; j < k_; ++j)
    if (!std::isfinite(values[j]))
      throw UserError("jackknife: data must be finite, got " + std::to_string(values[j]) +
                      " in series " + std::to_string(j) + " at sample " + std::to_string(sample));
  if (n_added_ == 0) shift_.assign(values, values + k_);
  seen_[sample] = 1;
  ++n_added_;
  const int b = bin_of(sample);
  if (!log_w_.empty() && log_w_[sample] == -kInf) return;
  const double w = log_w_.empty() ? 1.0 : std::exp(log_w_[sample] - bin_max_[b]);
  bin_weight_[b] += w;
  double* sum = &bin_sum_[static_cast<std::size_t>(b) * k_];
  for (std::size_t j = 0; j < k_; ++j) sum[j] += w * (values[j] - shift_[j]);
}

void BinnedMeans::check_complete() const {
  if (n_added_ != n_)
    throw std::logic_error("BinnedMeans: " + std::to_string(n_added_) + " of " + std::to_string(n_) +
                           " samples added");
}

std::vector<double> BinnedMeans::full_means() const {
  check_complete();
  std::vector<double> mean(k_, 0.0);
  double total = 0;
  for (int b = 0; b < n_bins_; ++b) {
    if (!std::isfinite(bin_max_[b])) continue;
    const double scale = std::exp(bin_max_[b] - max_);
    total += scale * bin_weight_[b];
    for (std::size_t j = 0; j < k_; ++j) mean[j] += scale * bin_sum_[b * k_ + j];
  }
  for (std::size_t j = 0; j < k_; ++j) mean[j] = mean[j] / total + shift_[j];
  return mean;
}

std::vector<double> BinnedMeans::leave_out_means(int bin) const {
  check_complete();
  if (bin < 0 || bin >= n_bins_)
    throw std::logic_error("BinnedMeans::leave_out_means: bin " + std::to_string(bin) + " out of range");
  // Sum the other bins relative to their own largest maximum, so that leaving out the bin that holds
  // the largest weight cannot underflow the rest.
  double ref = -kInf;
  for (int b = 0; b < n_bins_; ++b)
    if (b != bin) ref = std::max(ref, bin_max_[b]);
  std::vector<double> mean(k_, 0.0);
  double total = 0;
  for (int b = 0; b < n_bins_; ++b) {
    if (b == bin || !std::isfinite(bin_max_[b])) continue;
    const double scale = std::exp(bin_max_[b] - ref);
    total += scale * bin_weight_[b];
    for (std::size_t j = 0; j < k_; ++j) mean[j] += scale * bin_sum_[b * k_ + j];
  }
  for (std::size_t j = 0; j < k_; ++j) mean[j] = mean[j] / total + shift_[j];
  return mean;
}

Estimate jackknife_estimate(double full, const std::vector<double>& leave_one_out) {
  const auto n = static_cast<double>(leave_one_out.size());
  double centre = 0;
  for (double f : leave_one_out) centre += f;
  centre /= n;
  double ss = 0;
  for (double f : leave_one_out) ss += (f - centre) * (f - centre);
  return {full, std::sqrt((n - 1) / n * ss)};
}

Estimate jackknife(const std::vector<std::vector<double>>& series,
                   const std::function<double(const std::vector<double>&)>& f,
                   const std::vector<double>& log_w, int n_bins) {
  if (series.empty()) throw UserError("jackknife: needs at least one series");
  const std::size_t n = series.front().size();
  for (const auto& s : series)
    if (s.size() != n)
      throw UserError("jackknife: all series must have the same length, got " + std::to_string(n) +
                      " and " + std::to_string(s.size()));
  BinnedMeans binned(n, series.size(), log_w, n_bins);
  std::vector<double> values(series.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < series.size(); ++j) values[j] = series[j][i];
    binned.add(i, values.data());
  }
  const auto checked = [&f](const std::vector<double>& means) {
    const double v = f(means);
    if (!std::isfinite(v))
      throw UserError("jackknife: the derived quantity is not finite (" + std::to_string(v) +
                      ") on the full sample or on a leave-one-bin-out sample");
    return v;
  };
  std::vector<double> replicas(binned.n_bins());
  for (int b = 0; b < binned.n_bins(); ++b) replicas[b] = checked(binned.leave_out_means(b));
  return jackknife_estimate(checked(binned.full_means()), replicas);
}

Estimate mean(const std::vector<double>& x, const std::vector<double>& log_w, int n_bins) {
  return jackknife({x}, [](const std::vector<double>& m) { return m[0]; }, log_w, n_bins);
}

// ---- Gamma method ------------------------------------------------------------------------------------

AutocorrelationTime tau_int(const std::vector<double>& series, double S) {
  return tau_int(std::vector<std::vector<double>>{series}, S);
}

AutocorrelationTime tau_int(const std::vector<std::vector<double>>& chains, double S) {
  if (!(S > 0) || !std::isfinite(S))
    throw UserError("tau_int: the windowing parameter S must be positive (Wolff's default 1.5), got " +
                    std::to_string(S));
  if (chains.empty()) throw UserError("tau_int: needs at least one chain");
  std::size_t n_total = 0, shortest = chains.front().size();
  double mean = 0;
  for (const auto& c : chains) {
    if (c.size() < 2)
      throw UserError("tau_int: every chain needs at least 2 samples, got " + std::to_string(c.size()));
    check_finite(c, "tau_int");
    n_total += c.size();
    shortest = std::min(shortest, c.size());
    for (double x : c) mean += x;
  }
  mean /= static_cast<double>(n_total);
  const auto w_max = static_cast<int>(shortest / 2);
  const auto N = static_cast<double>(n_total);

  // Gamma(t) = sum_r sum_i d_i d_{i+t} / sum_r (N_r - t), the sums from one zero-padded FFT per chain.
  std::vector<double> gamma(w_max + 1, 0.0);
  Eigen::FFT<double> fft;
  fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
  for (const auto& c : chains) {
    std::size_t n_fft = 1;
    while (n_fft < 2 * c.size()) n_fft *= 2;
    std::vector<double> d(n_fft, 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) d[i] = c[i] - mean;
    std::vector<std::complex<double>> spectrum;
    fft.fwd(spectrum, d);
    for (auto& z : spectrum) z = std::norm(z);
    std::vector<double> autocorrelation;
    fft.inv(autocorrelation, spectrum, static_cast<Eigen::Index>(n_fft));
    for (int t = 0; t <= w_max; ++t) gamma[t] += autocorrelation[t];
  }
  for (int t = 0; t <= w_max; ++t) {
    double pairs = 0;
    for (const auto& c : chains) pairs += static_cast<double>(c.size()) - t;
    gamma[t] /= pairs;
  }
  if (!(gamma[0] > 0)) return {0.5, 0.0, 0};

  int window = w_max;
  double tau = 0.5;
  for (int W = 1; W <= w_max; ++W) {
    tau += gamma[W] / gamma[0];
    // tau_int(W) <= 1/2 means the autocorrelation is noise already: tau_W -> 0 ends the window here.
    const double tau_w = tau > 0.5 ? S / std::log((2 * tau + 1) / (2 * tau - 1)) : 0.0;
    const double g = (tau_w > 0 ? std::exp(-W / tau_w) : 0.0) - tau_w / std::sqrt(W * N);
    if (g < 0 || tau_w == 0) {
      window = W;
      break;
    }
  }

  // Wolff's bias correction: Gamma was measured around the sample mean, which lowers it by C_F/N.
  double c_f = gamma[0];
  for (int t = 1; t <= window; ++t) c_f += 2 * gamma[t];
  const double gamma0 = gamma[0] + c_f / N;
  c_f += (2 * window + 1) * c_f / N;
  const double tau_corrected = c_f / (2 * gamma0);
  return {tau_corrected, tau_corrected * std::sqrt(2.0 * (2 * window + 1) / N), window};
}

// ---- flow-sampler diagnostics ------------------------------------------------------------------------

double ess_fraction(const std::vector<double>& log_w) {
  if (log_w.empty()) throw UserError("ess_fraction: needs at least one log weight");
  check_log_weights(log_w, "ess_fraction");
  // exp(2 LSE(log w) - LSE(2 log w)) with the common max taken out analytically: both sums are >= 1.
  const double m = max_of(log_w);
  double s1 = 0, s2 = 0;
  for (double lw : log_w) {
    const double w = std::exp(lw - m);
    s1 += w;
    s2 += w * w;
  }
  return std::min(1.0, s1 * s1 / (s2 * static_cast<double>(log_w.size())));
}

Estimate log_z(const std::vector<double>& log_w) {
  if (log_w.size() < 2) throw UserError("log_z: needs at least 2 samples, got " + std::to_string(log_w.size()));
  check_log_weights(log_w, "log_z");
  const double m = max_of(log_w);
  std::vector<double> w(log_w.size());
  double total = 0;
  for (std::size_t i = 0; i < w.size(); ++i) total += w[i] = std::exp(log_w[i] - m);
  const auto n = static_cast<double>(w.size());
  const double mean_w = total / n;
  return {m + std::log(mean_w), std::sqrt(sample_variance(w) / n) / mean_w};
}

Estimate reverse_kl(const std::vector<double>& log_w) {
  if (log_w.size() < 2)
    throw UserError("reverse_kl: needs at least 2 samples, got " + std::to_string(log_w.size()));
  check_log_weights(log_w, "reverse_kl");
  if (std::any_of(log_w.begin(), log_w.end(), [](double lw) { return lw == -kInf; }))
    throw UserError("reverse_kl: a log weight is -inf (the target density vanishes where q does not), "
                    "so KL(q||p) is infinite");
  const auto n = static_cast<double>(log_w.size());
  const double log_mean_w = log_sum_exp(log_w) - std::log(n);
  double mean_log_w = 0;
  for (double lw : log_w) mean_log_w += lw;
  mean_log_w /= n;
  // Linearised per-sample contribution of log(mean w) - mean(log w).
  std::vector<double> influence(log_w.size());
  for (std::size_t i = 0; i < log_w.size(); ++i)
    influence[i] = std::exp(log_w[i] - log_mean_w) - (log_w[i] - mean_log_w);
  return {log_mean_w - mean_log_w, std::sqrt(sample_variance(influence) / n)};
}

IndependenceChain independence_metropolis(const std::vector<double>& log_w, std::uint64_t seed) {
  if (log_w.size() < 2)
    throw UserError("independence_metropolis: needs at least 2 proposals, got " +
                    std::to_string(log_w.size()));
  check_log_weights(log_w, "independence_metropolis");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  IndependenceChain chain;
  chain.index.resize(log_w.size());
  std::int64_t current = 0;
  std::size_t accepted = 0;
  for (std::size_t j = 1; j < log_w.size(); ++j) {
    // One draw per step, so that the decision at step j depends on the seed and j only.
    const double log_u = std::log(uniform(rng));
    if (log_w[j] >= log_w[current] || log_u < log_w[j] - log_w[current]) {
      current = static_cast<std::int64_t>(j);
      ++accepted;
    }
    chain.index[j] = current;
  }
  chain.acceptance = static_cast<double>(accepted) / static_cast<double>(log_w.size() - 1);
  return chain;
}

}  // namespace latflow::stats
