#include "core/device.hpp"

#include <torch/cuda.h>

#include "core/error.hpp"

namespace latflow {

bool cuda_usable() { return torch::cuda::is_available(); }

c10::Device parse_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!cuda_usable())
      throw UserError("device '" + name + "' was asked for, but no CUDA device is usable " +
                      "(this LibTorch " + (torch::cuda::device_count() == 0 && !torch::cuda::is_available()
                                               ? "sees no GPU" : "cannot use the GPU") +
                      "); use --device cpu");
    int index = 0;
    if (name.size() > 5) {
      try {
        index = std::stoi(name.substr(5));
      } catch (const std::exception&) {
        throw UserError("device '" + name + "' is not valid; allowed: cpu, cuda, cuda:N");
      }
    }
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
      throw UserError("device '" + name + "' does not exist; this machine has " +
                      std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UserError("device '" + name + "' is not valid; allowed: cpu, cuda, cuda:N");
}

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32") return c10::kFloat;
  if (name == "float64") return c10::kDouble;
  throw UserError("dtype '" + name + "' is not valid; allowed: 'float32', 'float64'");
}

}  // namespace latflow
