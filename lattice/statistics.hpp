#pragma once
// Statistical analysis of Monte Carlo data in double precision: plain and importance-reweighted means
// with jackknife errors, Wolff's Gamma method for autocorrelation times, and the diagnostics of flow
// samplers (effective sample size, log Z, reverse KL, independence Metropolis).
//
// Importance weights. A sample phi_i ~ q carries the log weight log w_i = log p~(phi_i) - log q(phi_i)
// = -S(phi_i) - log q(phi_i), and the self-normalised estimate of <O>_p is
//     <O> = sum_i w_i O_i / sum_i w_i.
// Weights are only ever formed as exp(log w_i - max), so log weights of any magnitude (1e3 and more)
// are safe. A log weight of -inf is a sample of zero weight; NaN and +inf are rejected.
//
// Jackknife. The samples are cut into n_bins contiguous bins of sizes differing by at most one; the
// estimate f_b of a derived quantity f(<A_1>, ..., <A_k>) with bin b left out gives
//     error^2 = (n_bins - 1)/n_bins sum_b (f_b - mean_b f_b)^2,
// and the value is f on the full sample. Contiguous bins longer than the integrated autocorrelation time
// make the error valid for autocorrelated MCMC series. The default n_bins (n_bins <= 0) is min(N, 100).
//
// Gamma method: U. Wolff, "Monte Carlo errors with less errors", Comput. Phys. Commun. 156 (2004) 143,
// hep-lat/0306017 (automatic windowing, eqs. (35)-(42), as in his UWerr.m). With rho(t) = Gamma(t)/Gamma(0),
//     tau_int(W) = 1/2 + sum_{t=1}^W rho(t),   tau_W = S / ln[(2 tau_int(W) + 1)/(2 tau_int(W) - 1)],
//     g(W) = exp(-W/tau_W) - tau_W / sqrt(W N),
// the window is the first W with g(W) < 0; Gamma is then bias-corrected by C_F/N with
// C_F = Gamma(0) + 2 sum_{t<=W} Gamma(t), and the error of tau_int is the Madras-Sokal estimate
//     delta tau_int = tau_int sqrt(2 (2W + 1) / N).
//
// Flow-sampler diagnostics (e.g. Albergo, Kanwar, Shanahan, PRD 100 (2019) 034515, arXiv:1904.12072):
//     ESS/N = (sum w)^2 / (N sum w^2),   log Z ~ log (1/N) sum_i w_i,
//     KL(q||p) = E_q[log q + S] + log Z = log Z - E_q[log w],
// and the independence Metropolis chain over flow proposals accepts j over the current i with
// probability min(1, w_j / w_i).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace latflow::stats {

struct Estimate {
  double value = 0;
  double error = 0;
};

/// Normalised importance weights w_i / sum_j w_j from log weights; empty log_w means uniform weights
/// over n samples.
std::vector<double> normalized_weights(const std::vector<double>& log_w, std::size_t n);

/// Mean of x, plain (log_w empty) or reweighted, error by jackknife over n_bins contiguous bins
/// (n_bins <= 0: min(N, 100)). Needs N >= 2.
Estimate mean(const std::vector<double>& x, const std::vector<double>& log_w = {}, int n_bins = 0);

/// Jackknife for a derived quantity f(<A_1>, ..., <A_k>) of k per-sample series of equal length, each
/// (re)weighted with the same weights. f must be finite on the full sample and on every leave-one-bin-out
/// sample, otherwise a UserError says so.
Estimate jackknife(const std::vector<std::vector<double>>& series,
                   const std::function<double(const std::vector<double>&)>& f,
                   const std::vector<double>& log_w = {}, int n_bins = 0);

/// Value f(full) with the jackknife error from the n_bins leave-one-bin-out values f_b.
Estimate jackknife_estimate(double full, const std::vector<double>& leave_one_out);

/// Reweighted means of k series accumulated one sample at a time into contiguous jackknife bins, for
/// ensembles too large to hold every per-sample series in memory (e.g. two-point functions). Each sample
/// 0..N-1 must be added exactly once, in any order; then full_means() and leave_out_means(b) are the
/// weighted means on the full sample and with bin b left out. Series are stored relative to the first
/// added sample so that leave-one-out differences do not cancel catastrophically.
class BinnedMeans {
 public:
  BinnedMeans(std::size_t n_samples, std::size_t n_series, const std::vector<double>& log_w = {},
              int n_bins = 0);
  /// Adds the n_series values of sample `sample`.
  void add(std::size_t sample, const double* values);
  int n_bins() const { return n_bins_; }
  std::size_t n_series() const { return k_; }
  std::vector<double> full_means() const;
  std::vector<double> leave_out_means(int bin) const;

 private:
  int bin_of(std::size_t sample) const;
  void check_complete() const;

  std::size_t n_ = 0, k_ = 0;
  int n_bins_ = 0;
  std::vector<double> log_w_;       // empty: uniform
  std::vector<double> bin_max_;     // max log weight per bin (0 when uniform, -inf for an empty-weight bin)
  std::vector<double> bin_weight_;  // sum_i exp(log w_i - bin_max) per bin
  std::vector<double> bin_sum_;     // [n_bins, k]: sum_i exp(log w_i - bin_max) (x_i - shift)
  std::vector<double> shift_;       // values of the first added sample
  std::vector<char> seen_;
  std::size_t n_added_ = 0;
  double max_ = 0;                  // global max of bin_max_
  int argmax_bin_ = 0;
};

/// Integrated autocorrelation time from Wolff's Gamma method with automatic windowing. A series without
/// fluctuations (Gamma(0) = 0) gives tau_int = 1/2, error 0, window 0. If no window up to W_max = N/2
/// satisfies g(W) < 0 (series too short for its autocorrelation), W_max is used.
struct AutocorrelationTime {
  double tau_int = 0.5;
  double error = 0;
  int window = 0;
};
AutocorrelationTime tau_int(const std::vector<double>& series, double S = 1.5);
/// Several independent chains (replica) of the same observable: Gamma(t) is averaged over the replica
/// around the common mean and N is the total number of samples (Wolff sec. 3.3). Chains may differ in
/// length; W_max is half the shortest one.
AutocorrelationTime tau_int(const std::vector<std::vector<double>>& chains, double S = 1.5);

/// ESS/N = (sum w)^2 / (N sum w^2) = exp(2 LSE(log w) - LSE(2 log w)) / N, in (0, 1].
double ess_fraction(const std::vector<double>& log_w);

/// log Z = log (1/N) sum_i exp(log w_i), for independent samples; error by the delta method,
/// sigma(log Z) = sigma(w) / (sqrt(N) mean(w)). Needs N >= 2.
Estimate log_z(const std::vector<double>& log_w);

/// KL(q||p) = log Z - E_q[log w] (>= 0 up to noise) for independent samples; error by the delta method
/// on the per-sample influence w_i / mean(w) - log w_i. Infinite KL (a log weight of -inf) is an error.
Estimate reverse_kl(const std::vector<double>& log_w);

/// Independence Metropolis-Hastings over flow proposals taken in order: the chain starts at proposal 0,
/// and at step j proposal j replaces the current i with probability min(1, w_j / w_i). index[j] is the
/// state after step j; acceptance is the fraction of the N-1 steps accepted. Deterministic given seed.
struct IndependenceChain {
  std::vector<std::int64_t> index;
  double acceptance = 0;
};
IndependenceChain independence_metropolis(const std::vector<double>& log_w, std::uint64_t seed);

}  // namespace latflow::stats
