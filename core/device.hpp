#pragma once
// Where tensors live. Every component takes its device and dtype from a torch::TensorOptions built here,
// so the same code and run cards run on CPU and CUDA (`--device cuda`).
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace latflow {

/// Parses "cpu", "cuda" or "cuda:N"; asking for CUDA when none is usable is a UserError saying so.
c10::Device parse_device(const std::string& name);

/// Parses "float32" or "float64".
c10::ScalarType parse_dtype(const std::string& name);

/// Whether this build can use a CUDA device now (LibTorch built with CUDA and a device present).
bool cuda_usable();

}  // namespace latflow
