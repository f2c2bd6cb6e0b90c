#include "integration/integrand.hpp"

#include <sstream>

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

void require_integrand_option(bool ok, const std::string& integrand, const std::string& key,
                              const std::string& allowed, double value) {
  if (ok) return;
  std::ostringstream os;
  os << integrand << ": " << key << " must be " << allowed << "; got " << value;
  throw UserError(os.str());
}

void throw_bad_integrand_value(const Integrand& f, double value, const at::Tensor& x) {
  std::ostringstream os;
  os << "integrand '" << f.name() << "' returned " << value << " at x = (";
  const at::Tensor xi = x.to(torch::kCPU, torch::kDouble).contiguous();
  for (std::int64_t k = 0; k < xi.numel(); ++k) os << (k ? ", " : "") << xi.data_ptr<double>()[k];
  os << "); importance sampling needs finite values >= 0";
  throw UserError(os.str());
}

at::Tensor evaluate_checked(const Integrand& f, const at::Tensor& x) {
  const at::Tensor y = f(x);
  if (y.dim() != 1 || y.size(0) != x.size(0))
    throw UserError("integrand '" + f.name() + "' returned a tensor of shape " + c10::str(y.sizes()) +
                    " for " + std::to_string(x.size(0)) + " points; it must return one value per point, [N]");
  const at::Tensor bad = torch::logical_not(torch::isfinite(y)).logical_or(y < 0);
  if (bad.any().item<bool>()) {
    const std::int64_t i = bad.nonzero().index({0, 0}).item<std::int64_t>();
    throw_bad_integrand_value(f, y[i].item<double>(), x[i]);
  }
  return y;
}

}  // namespace latflow
