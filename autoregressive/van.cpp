#include "autoregressive/van.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

Lattice spin_lattice(const at::Tensor& s, const std::string& who) {
  if (s.dim() != 3)
    throw UserError(who + ": spin configurations must be [B, T, L]; got " + std::to_string(s.dim()) + " dimensions");
  return {s.size(1), s.size(2)};
}

VanImpl::VanImpl(VanOptions options) : options_(std::move(options)) {
  const Lattice& lattice = options_.lattice();
  if (lattice.T < 1 || lattice.L < 1) throw UserError("VAN: the lattice must have T, L >= 1; got " + lattice.str());
  net_ = register_module("net", Made(MadeOptions(lattice.volume()).architecture(options_.architecture())));
}

void VanImpl::check_lattice(const Lattice& lattice) const {
  if (lattice == options_.lattice()) return;
  throw UserError("VAN: built for the " + options_.lattice().str() + " lattice, asked for " + lattice.str() +
                  "; its weights connect every pair of the " + std::to_string(options_.lattice().volume()) +
                  " sites, so it runs only on the lattice it was built for (HAN transfers between sizes)");
}

void VanImpl::initialize_from(const SamplerImpl& trained, bool freeze) {
  (void)freeze;
  throw UserError("VAN: built for the " + options_.lattice().str() + " lattice; a trained " + trained.base_name() +
                  " model on another lattice cannot initialise it, since a VAN's weights connect the pairs of sites "
                  "of its own lattice (HAN transfers between sizes)");
}

Density VanImpl::sample(std::int64_t n, const Lattice& lattice) {
  check_lattice(lattice);
  const SpinSample d = net_->sample(n);
  return {d.s.view({n, lattice.T, lattice.L}), d.logq};
}

at::Tensor VanImpl::log_prob(const at::Tensor& s) {
  check_lattice(spin_lattice(s, "VAN"));
  return net_->log_prob(s.reshape({s.size(0), -1}));
}

}  // namespace latflow
