#include "core/memory.hpp"

#include <fstream>
#include <sstream>
#include <string>

#if defined(LATFLOW_WITH_CUDA) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define LATFLOW_CUDA_MEMORY 1
#if __has_include(<cuda_runtime_api.h>)
#include <cuda_runtime_api.h>
#define LATFLOW_CUDA_RUNTIME 1
#endif
#endif

namespace latflow {

namespace {
/// The "key: N kB" field of a /proc file, in KiB, or -1 when absent.
double proc_kib(const char* file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      std::istringstream fields(line.substr(key.size()));
      double kib = -1;
      fields >> kib;
      return kib;
    }
  return -1;
}
}  // namespace

void reset_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) {
#ifdef LATFLOW_CUDA_MEMORY
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
    return;
  }
  // "5" resets the peak RSS counter (Linux >= 4.0); elsewhere the write fails and the peak stays global.
  std::ofstream("/proc/self/clear_refs") << "5";
}

double peak_memory_mib(const c10::Device& device) {
  if (device.is_cuda()) {
#ifdef LATFLOW_CUDA_MEMORY
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    const auto& peak = stats.allocated_bytes[static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
    return static_cast<double>(peak) / (1024.0 * 1024.0);
#else
    return -1;
#endif
  }
  const double kib = proc_kib("/proc/self/status", "VmHWM:");
  return kib < 0 ? -1 : kib / 1024.0;
}

double available_host_memory_bytes() {
  const double kib = proc_kib("/proc/meminfo", "MemAvailable:");
  return kib < 0 ? 0 : kib * 1024.0;
}

double free_device_memory_bytes(const c10::Device& device) {
#ifdef LATFLOW_CUDA_RUNTIME
  if (!device.is_cuda()) return 0;
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) return 0;
  std::size_t free = 0, total = 0;
  const bool ok = cudaSetDevice(device.has_index() ? device.index() : 0) == cudaSuccess &&
                  cudaMemGetInfo(&free, &total) == cudaSuccess;
  cudaSetDevice(previous);
  return ok ? static_cast<double>(free) : 0;
#else
  (void)device;
  return 0;
#endif
}

}  // namespace latflow
