#include "flows/sampler.hpp"

#include <torch/torch.h>

namespace latflow {

SamplerImpl::SamplerImpl() : dtype_probe_(register_buffer("dtype_probe", torch::empty({0}))) {}

std::int64_t SamplerImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace latflow
