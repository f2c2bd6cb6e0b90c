#pragma once
// The counting CPU allocator of the benchmarks (bench_estimators, bench_autoregressive): installed in place
// of the default CPU allocator, it measures the bytes of every live CPU tensor (current and peak), which is
// what a piece of work holds in tensors (autograd's saved tensors included), independent of the process's
// other memory.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

namespace latflow::bench {

/// A CPU allocator that counts the bytes of live tensors (current and peak) around the default one. The
/// DataPtr's context must be its data pointer (raw_allocate asserts it), so blocks are found by address.
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* base) : base_(base) { self_ = this; }
  c10::DataPtr allocate(std::size_t n) override {
    // A zero-byte block has no address to be found by, and nothing to count.
    if (n == 0) return {nullptr, nullptr, &release, c10::Device(c10::kCPU)};
    c10::DataPtr inner = base_->allocate(n);
    void* data = inner.get();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks_.emplace(data, Block{std::move(inner), n});
      live_ += static_cast<std::int64_t>(n);
      peak_ = std::max(peak_, live_);
    }
    return {data, data, &release, c10::Device(c10::kCPU)};
  }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  std::int64_t live() {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_;
  }
  std::int64_t peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_ = live_;
  }

 private:
  struct Block {
    c10::DataPtr inner;
    std::size_t n;
  };
  static void release(void* data) {
    if (data == nullptr) return;  // zero-byte blocks (see allocate); oneDNN frees them through raw_deallocate
    Block block;
    {
      std::lock_guard<std::mutex> lock(self_->mutex_);
      auto it = self_->blocks_.find(data);
      block = std::move(it->second);
      self_->blocks_.erase(it);
      self_->live_ -= static_cast<std::int64_t>(block.n);
    }
  }  // block.inner frees the memory here, outside the lock
  static inline CountingAllocator* self_ = nullptr;
  c10::Allocator* base_;
  std::mutex mutex_;
  std::unordered_map<void*, Block> blocks_;
  std::int64_t live_ = 0, peak_ = 0;
};

}  // namespace latflow::bench
