#pragma once
// Peak memory of one piece of work (a training run of a scaling study), on the device it ran on:
// on CPU the resident-set high-water mark of the process (Linux VmHWM, reset through /proc/self/clear_refs),
// on CUDA the caching allocator's peak of allocated bytes on that device.
#include <c10/core/Device.h>

namespace latflow {

/// Starts a new measurement on `device` (best effort: where the counter cannot be reset, the peak
/// measured stays the process's peak so far).
void reset_peak_memory(const c10::Device& device);
/// The peak since the last reset in MiB, or -1 when this build or system cannot measure it.
double peak_memory_mib(const c10::Device& device);

/// Memory the system could give this process now, in bytes (Linux MemAvailable), or 0 when unknown.
double available_host_memory_bytes();

/// Free memory of a CUDA device in bytes (what the driver reports), or 0 when unknown.
double free_device_memory_bytes(const c10::Device& device);

}  // namespace latflow
