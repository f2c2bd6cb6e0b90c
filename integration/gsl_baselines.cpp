#include "integration/gsl_baselines.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_monte_plain.h>
#include <gsl/gsl_monte_vegas.h>
#include <gsl/gsl_rng.h>
#include <torch/torch.h>

#include "core/choices.hpp"
#include "core/error.hpp"

namespace latflow {

namespace {

/// The C callback's context: an integrand error is kept and rethrown once GSL has returned (an exception must
/// not unwind through C frames).
struct Callback {
  const Integrand* f;
  std::size_t dim;
  std::exception_ptr error;
};

double call_integrand(double* x, std::size_t dim, void* context) {
  auto* c = static_cast<Callback*>(context);
  if (c->error) return 0.0;
  try {
    c10::InferenceMode inference;
    const at::Tensor point = torch::from_blob(x, {1, static_cast<std::int64_t>(dim)}, torch::kDouble);
    const at::Tensor y = (*c->f)(point);
    if (y.numel() != 1) evaluate_checked(*c->f, point);  // reports the wrong shape
    const double value = y.item<double>();
    if (!(std::isfinite(value) && value >= 0)) throw_bad_integrand_value(*c->f, value, point[0]);
    return value;
  } catch (...) {
    c->error = std::current_exception();
    return 0.0;
  }
}

struct RngDeleter {
  void operator()(gsl_rng* r) const { gsl_rng_free(r); }
};
using Rng = std::unique_ptr<gsl_rng, RngDeleter>;

Rng make_rng(std::uint64_t seed) {
  Rng r(gsl_rng_alloc(gsl_rng_mt19937));
  gsl_rng_set(r.get(), static_cast<unsigned long>(seed));
  return r;
}

void gsl_errors_off() {
  static const bool once = (gsl_set_error_handler_off(), true);
  (void)once;
}

void check_status(int status, const Callback& cb, const std::string& who) {
  if (cb.error) std::rethrow_exception(cb.error);
  if (status != GSL_SUCCESS) throw UserError(who + " failed: " + gsl_strerror(status));
}

void require_calls(std::int64_t calls, const std::string& who) {
  if (calls < 2) throw UserError(who + ": the number of evaluations must be >= 2; got " + std::to_string(calls));
}

}  // namespace

std::vector<std::string> vegas_modes() { return {"importance_only", "importance", "stratified"}; }

MonteCarloResult plain_monte_carlo(const Integrand& f, std::int64_t calls, std::uint64_t seed) {
  require_calls(calls, "plain Monte Carlo");
  gsl_errors_off();
  const auto start = std::chrono::steady_clock::now();
  const std::size_t dim = static_cast<std::size_t>(f.dimension());
  Callback cb{&f, dim, nullptr};
  gsl_monte_function fn{&call_integrand, dim, &cb};
  const std::vector<double> lo(dim, 0.0), hi(dim, 1.0);
  Rng rng = make_rng(seed);
  gsl_monte_plain_state* state = gsl_monte_plain_alloc(dim);
  MonteCarloResult r;
  const int status = gsl_monte_plain_integrate(&fn, lo.data(), hi.data(), dim, static_cast<std::size_t>(calls),
                                               rng.get(), state, &r.integral.value, &r.integral.error);
  gsl_monte_plain_free(state);
  check_status(status, cb, "gsl_monte_plain_integrate");
  r.evaluations = calls;
  r.seconds = seconds_since(start);
  return r;
}

MonteCarloResult gsl_vegas(const Integrand& f, const VegasOptions& o, std::int64_t calls, std::uint64_t seed) {
  require_calls(calls, "VEGAS");
  require_calls(o.training_calls, "VEGAS training");
  if (o.training_iterations < 1)
    throw UserError("vegas.iterations must be >= 1; got " + std::to_string(o.training_iterations));
  if (!(std::isfinite(o.alpha) && o.alpha >= 0))
    throw UserError("vegas.alpha must be a finite number >= 0; got " + std::to_string(o.alpha));
  const std::size_t mode = require_choice("vegas.mode", o.mode, vegas_modes());
  const int gsl_mode[] = {GSL_VEGAS_MODE_IMPORTANCE_ONLY, GSL_VEGAS_MODE_IMPORTANCE, GSL_VEGAS_MODE_STRATIFIED};
  gsl_errors_off();
  const auto start = std::chrono::steady_clock::now();
  const std::size_t dim = static_cast<std::size_t>(f.dimension());
  Callback cb{&f, dim, nullptr};
  gsl_monte_function fn{&call_integrand, dim, &cb};
  std::vector<double> lo(dim, 0.0), hi(dim, 1.0);
  Rng rng = make_rng(seed);
  std::unique_ptr<gsl_monte_vegas_state, void (*)(gsl_monte_vegas_state*)> state(gsl_monte_vegas_alloc(dim),
                                                                                 &gsl_monte_vegas_free);
  gsl_monte_vegas_params params;
  gsl_monte_vegas_params_get(state.get(), &params);
  params.alpha = o.alpha;
  params.mode = gsl_mode[mode];
  params.verbose = -1;
  params.iterations = static_cast<std::size_t>(o.training_iterations);
  params.stage = 0;
  gsl_monte_vegas_params_set(state.get(), &params);
  MonteCarloResult r;
  double value = 0, error = 0;
  check_status(gsl_monte_vegas_integrate(&fn, lo.data(), hi.data(), dim,
                                         static_cast<std::size_t>(o.training_calls), rng.get(), state.get(), &value,
                                         &error),
               cb, "gsl_monte_vegas_integrate (training)");
  r.chi2_dof = gsl_monte_vegas_chisq(state.get());
  params.iterations = 1;
  params.stage = 1;
  gsl_monte_vegas_params_set(state.get(), &params);
  check_status(gsl_monte_vegas_integrate(&fn, lo.data(), hi.data(), dim,
                                         static_cast<std::size_t>(calls), rng.get(), state.get(), &r.integral.value,
                                         &r.integral.error),
               cb, "gsl_monte_vegas_integrate");
  r.evaluations = o.training_iterations * o.training_calls + calls;
  r.seconds = seconds_since(start);
  return r;
}

}  // namespace latflow
