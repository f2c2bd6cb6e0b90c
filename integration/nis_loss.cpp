#include "integration/nis_loss.hpp"

#include <torch/torch.h>

#include "core/choices.hpp"

namespace latflow {

std::vector<std::string> nis_losses() { return {"variance", "kl"}; }

at::Tensor nis_loss(const std::string& name, const at::Tensor& f, const at::Tensor& log_p, const at::Tensor& log_q,
                    double scale) {
  require_choice("NIS loss", name, nis_losses());
  const at::Tensor w = f / scale * torch::exp(-log_p);  // (f / p) / I_p
  if (name == "variance") return (w * f / scale * torch::exp(-log_q)).mean();
  return -(w * log_q).mean();
}

}  // namespace latflow
