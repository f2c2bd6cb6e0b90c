#include "operators/registry.hpp"

#include <string>

#include "operators/local_operator.hpp"
#include "operators/spectral_operator.hpp"

namespace latflow {

namespace {
// The constructors validate the options (each >= 1) with messages that name the run-card keys.
NeuralOperatorPtr build_spectral(const Config& cfg) {
  return std::make_shared<SpectralOperatorImpl>(SpectralOperatorOptions()
                                                    .channels(cfg.get<std::int64_t>("model.channels"))
                                                    .frequencies(cfg.get<std::int64_t>("model.frequencies"))
                                                    .kernel_modes(cfg.get<std::int64_t>("model.kernel_modes"))
                                                    .time_modes(cfg.get<std::int64_t>("model.time_modes")));
}

NeuralOperatorPtr build_local(const Config& cfg) {
  return std::make_shared<LocalOperatorImpl>(LocalOperatorOptions()
                                                 .channels(cfg.get<std::int64_t>("model.channels"))
                                                 .frequencies(cfg.get<std::int64_t>("model.frequencies"))
                                                 .kernel_radius(cfg.get<std::int64_t>("model.kernel_radius"))
                                                 .time_modes(cfg.get<std::int64_t>("model.time_modes")));
}
}  // namespace

const Registry<NeuralOperatorPtr, const Config&>& operator_registry() {
  static const auto registry =
      Registry<NeuralOperatorPtr, const Config&>("neural operator")
          .add("spectral", "kernels smooth in lattice momentum, applied by FFT; runs on any lattice size",
               build_spectral)
          .add("local", "D4-tied kernels of radius model.kernel_radius, circular convolution", build_local);
  return registry;
}

}  // namespace latflow
