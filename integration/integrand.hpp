#pragma once
// An integrand of Monte Carlo integration on the unit hypercube: a non-negative function f on [0, 1]^d
// whose integral
//
//   I = int_{[0,1]^d} f(x) dx
//
// is estimated by importance sampling, I = E_{x ~ q}[f(x) / q(x)]. It is the target of neural importance
// sampling, as -S is the target of the lattice samplers: log f is an unnormalised log-density on the cube,
// and I its normaliser. f is called on batches of points, [N, d] -> [N], in the dtype and on the device of
// the points (so the same integrand runs under a flow on a GPU and under GSL's VEGAS one point at a time).
//
// Each integrand is one header in integration/ plus one line in integration/registry.cpp, which is also
// the list the conformance tests (tests/integration/integrand_test.cpp) check: shape, non-negativity,
// finiteness, and the exact integral, where one is known, against a high-statistics estimate.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

namespace latflow {

/// The parameters every registered integrand is built from; each reads the ones its header names.
struct IntegrandOptions {
  /// d, the dimension of the cube; >= 1.
  TORCH_ARG(std::int64_t, dimension) = 2;
  /// A width: the s of the Gaussian and camel (per-axis std s / sqrt 2), the sig of the slashed circle; > 0.
  TORCH_ARG(double, width) = 0.1;
  /// The ring radius of the slashed circle; > 0.
  TORCH_ARG(double, radius) = 0.3;
  /// The frequency of the sinusoid.
  TORCH_ARG(double, frequency) = 20.0;
  /// The constant added to the sinusoid; >= 0.
  TORCH_ARG(double, offset) = 0.1;
};

class Integrand {
 public:
  virtual ~Integrand() = default;
  virtual std::string name() const = 0;
  virtual std::int64_t dimension() const = 0;
  /// f(x) >= 0 at the points x [N, d] in [0, 1]^d, as [N] in x's dtype and on its device.
  virtual at::Tensor operator()(const at::Tensor& x) const = 0;
  /// The exact integral over [0, 1]^d, where it is known in closed form.
  virtual std::optional<double> exact() const { return std::nullopt; }
};

using IntegrandPtr = std::shared_ptr<const Integrand>;

/// Throws UserError ("<integrand>: <key> must be <allowed>; got <value>") unless ok.
void require_integrand_option(bool ok, const std::string& integrand, const std::string& key,
                              const std::string& allowed, double value);

/// Throws the UserError of evaluate_checked for the value f returned at the point x [d].
[[noreturn]] void throw_bad_integrand_value(const Integrand& f, double value, const at::Tensor& x);

/// f evaluated at x, checked: a value that is NaN, infinite or negative is a UserError naming the integrand,
/// the value and the point (an importance-sampling weight f/q must be finite and non-negative).
at::Tensor evaluate_checked(const Integrand& f, const at::Tensor& x);

}  // namespace latflow
