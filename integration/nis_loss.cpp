#include "integration/nis_loss.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

std::vector<std::string> nis_losses() { return {"variance", "kl"}; }

at::Tensor nis_loss(const std::string& name, const at::Tensor& f, const at::Tensor& log_p, const at::Tensor& log_q,
                    double scale) {
  const at::Tensor w = f / scale * torch::exp(-log_p);  // (f / p) / I_p
  if (name == "variance") return (w * f / scale * torch::exp(-log_q)).mean();
  if (name == "kl") return -(w * log_q).mean();
  throw UserError("unknown NIS loss '" + name + "'" + text::did_you_mean(name, nis_losses()) +
                  "; known: " + text::quoted_list(nis_losses()));
}

}  // namespace latflow
