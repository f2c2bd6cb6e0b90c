#pragma once
// The fully connected network of a coupling layer's conditioner, for the couplings whose inputs are a fixed
// set of coordinates: the dense couplings of phi^4 (Albergo, Kanwar & Shanahan 2019, arXiv 1904.12072; anvil
// and torchlft of Del Debbio, Marsh Rossney & Wilson) and the cube cells of neural importance sampling
// (Müller et al., arXiv 1808.03856, as ZüNIS builds them, arXiv 2401.09069):
//
//   in -> hidden[0] -> ... -> hidden[n-1] -> out,   activation after every hidden Linear,
//
// with a last Linear that starts at zero, so the network's output is 0 at initialisation and the coupling
// built on it starts as the identity (as the convolutional one of flows/conv_net.hpp).
//
// Built as a bare Sequential, so that an owner registering it as "net" keeps parameter keys net.0.weight, ...
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/modules/container/sequential.h>

namespace latflow {

/// Throws UserError (naming `who`) unless `activation` is "leaky_relu" (slope 0.01) or "tanh".
void check_activation(const std::string& activation, const std::string& who);

/// Appends the activation module of that name (checked) to `net`.
void push_activation(torch::nn::Sequential& net, const std::string& activation);

/// The network in -> hidden... -> out. Throws UserError (naming `who`) for a width < 1 or an unknown activation.
torch::nn::Sequential dense_net(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& hidden,
                                const std::string& activation, const std::string& who);

}  // namespace latflow
