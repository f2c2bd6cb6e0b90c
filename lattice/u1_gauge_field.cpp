#include "lattice/u1_gauge_field.hpp"

#include <string>

#include <ATen/ATen.h>
#include <c10/util/MathConstants.h>

#include "core/error.hpp"

namespace latflow::u1 {

namespace {

constexpr std::int64_t kTime = -2, kSpace = -1;  // tensor dims of mu = 0 and mu = 1 in a [B, T, L] field

at::Tensor forward(const at::Tensor& field, std::int64_t dim) { return at::roll(field, {-1}, {dim}); }

}  // namespace

void require_links(const char* who, const at::Tensor& theta) {
  if (theta.dim() != 4 || theta.size(1) != 2 || !at::isFloatingType(theta.scalar_type()))
    throw UserError(std::string(who) + ": link angles must be a floating tensor [B, 2, T, L], got " +
                    std::to_string(theta.dim()) + " dimensions of shape " + c10::str(theta.sizes()) + " (" +
                    std::string(c10::toString(theta.scalar_type())) + ")");
}

at::Tensor plaquette_angles(const at::Tensor& theta) {
  require_links("u1 plaquettes", theta);
  const at::Tensor t0 = theta.select(1, 0), t1 = theta.select(1, 1);
  return t0 + forward(t1, kTime) - forward(t0, kSpace) - t1;
}

at::Tensor rectangle_angles(const at::Tensor& theta) {
  const at::Tensor p = plaquette_angles(theta);
  return at::stack({p + forward(p, kTime), p + forward(p, kSpace)}, 1);
}

at::Tensor wrap_angle(const at::Tensor& angle) {
  return at::remainder(angle + c10::pi<double>, 2 * c10::pi<double>) - c10::pi<double>;
}

at::Tensor topological_charge(const at::Tensor& theta) {
  return wrap_angle(plaquette_angles(theta)).sum({1, 2}) / (2 * c10::pi<double>);
}

at::Tensor mean_plaquette(const at::Tensor& theta) { return at::cos(plaquette_angles(theta)).mean({1, 2}); }

at::Tensor mean_rectangle(const at::Tensor& theta) { return at::cos(rectangle_angles(theta)).mean({1, 2, 3}); }

at::Tensor gauge_transform(const at::Tensor& theta, const at::Tensor& alpha) {
  require_links("u1 gauge transform", theta);
  if (alpha.dim() != 3 || alpha.size(0) != theta.size(0) || alpha.size(1) != theta.size(2) ||
      alpha.size(2) != theta.size(3))
    throw UserError("u1 gauge transform: alpha must have shape [B, T, L] = " +
                    c10::str(at::IntArrayRef{theta.size(0), theta.size(2), theta.size(3)}) + ", got " +
                    c10::str(alpha.sizes()));
  return theta + at::stack({alpha - forward(alpha, kTime), alpha - forward(alpha, kSpace)}, 1);
}

at::Tensor haar_links(std::int64_t batch, const Lattice& lattice, const c10::TensorOptions& options) {
  if (batch < 0 || lattice.T < 1 || lattice.L < 1)
    throw UserError("u1 Haar links: need batch >= 0 and a non-empty lattice, got batch " + std::to_string(batch) +
                    " on " + lattice.str());
  return (at::rand({batch, 2, lattice.T, lattice.L}, options) * 2 - 1) * c10::pi<double>;
}

}  // namespace latflow::u1
