#include "flows/elementwise/elementwise_transform.hpp"

#include <sstream>

#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

namespace {
std::string shape(const at::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

bool broadcastable(c10::IntArrayRef a, c10::IntArrayRef b) {
  for (std::size_t i = 1; i <= std::min(a.size(), b.size()); ++i) {
    const std::int64_t m = a[a.size() - i], n = b[b.size() - i];
    if (m != n && m != 1 && n != 1) return false;
  }
  return true;
}
}  // namespace

void require_option(bool ok, const std::string& transform, const std::string& key, const std::string& allowed,
                    double value) {
  if (ok) return;
  std::ostringstream s;
  s << transform << ": " << key << " must be " << allowed << "; got " << value;
  throw UserError(s.str());
}

std::pair<at::Tensor, at::Tensor> ElementwiseTransform::checked(const at::Tensor& values,
                                                                const at::Tensor& params) const {
  const std::int64_t P = parameters_per_element();
  if (params.dim() < 1 || params.size(-1) != P)
    throw UserError(name() + ": params must have " + std::to_string(P) +
                    " raw parameters per element in the last dimension; got shape " + shape(params));
  const auto type = values.scalar_type();
  if (type != torch::kFloat32 && type != torch::kFloat64)
    throw UserError(name() + ": values must be float32 or float64; got " + std::string(c10::toString(type)));
  if (params.scalar_type() != type || params.device() != values.device())
    throw UserError(name() + ": params must have the dtype and device of the values (" + c10::toString(type) + " on " +
                    values.device().str() + "); got " + c10::toString(params.scalar_type()) + " on " +
                    params.device().str());
  const c10::IntArrayRef element_shape = params.sizes().slice(0, params.dim() - 1);
  if (!broadcastable(values.sizes(), element_shape))
    throw UserError(name() + ": values " + shape(values) + " do not broadcast with params " + shape(params) +
                    " (params[..., 0] must broadcast with the values)");
  // The parameters stay unexpanded: shared parameter sets are turned into bins once, not once per element.
  return {values.expand(at::infer_size(values.sizes(), element_shape)), params};
}

ElementwiseResult ElementwiseTransform::forward(const at::Tensor& x, const at::Tensor& params) const {
  const auto [v, p] = checked(x, params);
  return forward_checked(v, p);
}

ElementwiseResult ElementwiseTransform::inverse(const at::Tensor& y, const at::Tensor& params) const {
  const auto [v, p] = checked(y, params);
  return inverse_checked(v, p);
}

}  // namespace latflow
