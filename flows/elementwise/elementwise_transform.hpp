#pragma once
// Elementwise invertible transforms with learnable per-element parameters: the one-dimensional bijections a
// coupling layer applies to its active variables, each element with its own raw parameters theta,
//
//   forward:  y = f(x; theta),       log f'(x; theta)
//   inverse:  x = f^-1(y; theta),    log |d f^-1 / dy| = -log f'(x; theta)
//
// The raw parameters [..., P] are unconstrained (the outputs of a conditioner network) and are mapped to valid
// bins, slopes and scales inside each transform. Every implementation (flows/elementwise/registry.hpp lists them)
// guarantees, and the conformance tests in tests/flows/elementwise/ check:
//   - all-zero raw parameters give exactly the identity (y == x bit for bit, log-derivative exactly 0), so a
//     coupling layer whose conditioner starts at zero starts at the identity;
//   - any finite raw parameters (up to the float range each header states) give a strictly increasing,
//     orientation-preserving bijection of the domain with a finite log-derivative;
//   - interval domains keep both faces fixed exactly: f(lo) = lo, f(hi) = hi (for the unit hypercube of neural
//     importance sampling, where samples lie exactly on the faces);
//   - circle domains are C^1 diffeomorphisms of the circle: inputs are any real angles (reduced mod 2 pi
//     first), outputs lie in [0, 2 pi) (2 pi rounded to the dtype).
// Only torch operations, no loops over elements: any device, float32 or float64.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

namespace latflow {

/// y (or x, from inverse) and the log-derivative of the map that was applied, both shaped like the broadcast of
/// the values with params[..., 0].
struct ElementwiseResult {
  at::Tensor y;
  at::Tensor log_derivative;
};

/// Where a transform acts.
struct Domain {
  enum class Kind { real_line, interval, circle };
  Kind kind;
  double lo;  ///< interval: the lower face; circle: 0; real line: -infinity
  double hi;  ///< interval: the upper face; circle: 2 pi; real line: +infinity
};

/// The settings of every elementwise transform; each reads the ones its header names, and invalid values are a
/// UserError (the binned transforms check all three floors).
struct ElementwiseOptions {
  /// K, the bins of the splines and piecewise maps; the mixture components of the NCP. >= 1.
  TORCH_ARG(std::int64_t, bins) = 8;
  /// The real-line spline acts on [-bound, bound] and is the identity outside. > 0.
  TORCH_ARG(double, bound) = 3.0;
  /// The interval of the interval transforms (the unit hypercube's [0, 1] by default). lo < hi, both finite.
  TORCH_ARG(double, lo) = 0.0;
  TORCH_ARG(double, hi) = 1.0;
  /// Circular transforms: compose with a learnable rotation (one more raw parameter, the angle in radians).
  TORCH_ARG(bool, rotation) = true;
  /// Floors on the bins, as fractions of the interval: each bin at least this wide or high; 0 < K min < 1.
  TORCH_ARG(double, min_bin_width) = 1e-3;
  TORCH_ARG(double, min_bin_height) = 1e-3;
  /// Floor on the spline knot derivatives and on the piecewise-quadratic vertex densities; in (0, 1).
  TORCH_ARG(double, min_derivative) = 1e-3;
  /// NCP: the log-scales are S tanh(raw / S) with S = max_log_scale, so that every finite raw parameter gives
  /// slopes between e^-S and e^S, finite with their gradients in float32; in (0, 40].
  TORCH_ARG(double, max_log_scale) = 20.0;
};

/// The option errors of the transforms, one line: throws UserError("<transform>: <key> must be <allowed>; got
/// <value>") unless ok.
void require_option(bool ok, const std::string& transform, const std::string& key, const std::string& allowed,
                    double value);

class ElementwiseTransform {
 public:
  virtual ~ElementwiseTransform() = default;

  /// The registry name.
  virtual std::string name() const = 0;
  /// P, the raw parameters per element (the last dimension of params).
  virtual std::int64_t parameters_per_element() const = 0;
  virtual Domain domain() const = 0;

  /// x [...] with params [..., P] broadcastable against it; same dtype (float32 or float64) and device.
  /// Throws UserError for a wrong last dimension, shapes that do not broadcast, or mismatched dtype or device.
  /// Interval transforms give NaN for x outside [lo, hi] (a bug upstream, not rounding: they keep [lo, hi]).
  ElementwiseResult forward(const at::Tensor& x, const at::Tensor& params) const;
  /// The inverse map at y, with log-derivative -log f'(x); same requirements as forward.
  ElementwiseResult inverse(const at::Tensor& y, const at::Tensor& params) const;

 protected:
  /// Called with the values expanded to the common element shape S and params [..., P] (checked, broadcastable
  /// to [S, P]).
  virtual ElementwiseResult forward_checked(const at::Tensor& x, const at::Tensor& params) const = 0;
  virtual ElementwiseResult inverse_checked(const at::Tensor& y, const at::Tensor& params) const = 0;

 private:
  std::pair<at::Tensor, at::Tensor> checked(const at::Tensor& values, const at::Tensor& params) const;
};

using ElementwisePtr = std::shared_ptr<const ElementwiseTransform>;

}  // namespace latflow
