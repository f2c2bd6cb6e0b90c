#include "flows/transform.hpp"

namespace latflow {

ComposedTransformImpl::ComposedTransformImpl(std::vector<TransformPtr> parts) : parts_(std::move(parts)) {
  for (std::size_t i = 0; i < parts_.size(); ++i) register_module("part" + std::to_string(i), parts_[i]);
}

Density ComposedTransformImpl::forward(const Density& x) {
  Density d = x;
  for (auto& p : parts_) d = p->forward(d);
  return d;
}

Density ComposedTransformImpl::reverse(const Density& y) {
  Density d = y;
  for (auto it = parts_.rbegin(); it != parts_.rend(); ++it) d = (*it)->reverse(d);
  return d;
}

}  // namespace latflow
