#include "flows/sampler.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

SamplerImpl::SamplerImpl() : dtype_probe_(register_buffer("dtype_probe", torch::empty({0}))) {}

void SamplerImpl::initialize_from(const SamplerImpl& trained, bool freeze) {
  (void)trained, (void)freeze;
  throw UserError("this model's weights run on every lattice size as they are; it has no transfer initialisation");
}

std::int64_t SamplerImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace latflow
