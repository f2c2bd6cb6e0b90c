#include "experiments/session.hpp"

#include <filesystem>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/device.hpp"
#include "core/error.hpp"
#include "flows/registry.hpp"
#include "lattice/registry.hpp"

namespace latflow {

Session::Session(RunCard card_in) : card(std::move(card_in)) {
  const Config& c = card.config;
  device = parse_device(c.get<std::string>("run.device"));
  dtype = parse_dtype(c.get<std::string>("model.dtype"));
  if (const auto threads = c.get<std::int64_t>("run.threads"); threads > 0)
    at::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(static_cast<std::uint64_t>(c.get<std::int64_t>("run.seed")));
  lattice = lattice_of(c);
  action = theory_registry().create(c.get<std::string>("lattice.theory"), c);
}

SamplerPtr Session::build_model() const {
  const auto type = card.config.get<std::string>("model.type");
  SamplerPtr model = model_registry().create(type, card.config);
  const auto shape_text = [](const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  };
  const auto samples = model->sample_shape(lattice), wanted = action->config_shape(lattice);
  if (samples != wanted || model->sample_space() != action->sample_space()) {
    const std::string space = action->sample_space();
    const std::string hint = space == "angle"  ? "for link angles use model.type = \"gauge_coupling\" (model.prior = \"haar\")"
                             : space == "spin" ? "for Ising spins use model.type = \"han\" or \"van\""
                                               : "use a scalar-field model (operator_cnf, coupling, hierarchical)";
    throw UserError("model.type \"" + type + "\" (" + model->base_name() + ") samples " + model->sample_space() +
                    " configurations " + shape_text(samples) + ", but lattice.theory \"" + action->name() + "\" has " +
                    space + " configurations " + shape_text(wanted) + "; " + hint);
  }
  model->check_lattice(lattice);
  model->to(device, dtype);
  return model;
}

std::string run_directory_of(const RunCard& card) {
  const std::string dir = card.config.get<std::string>("output.dir");
  if (!dir.empty()) return dir;
  const std::string stem = card.source.empty() ? "run" : std::filesystem::path(card.source).stem().string();
  return "runs/" + stem;
}

}  // namespace latflow
