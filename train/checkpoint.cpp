#include "train/checkpoint.hpp"

#include <cstdio>
#include <filesystem>
#include <mutex>

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/serialize.h>

#include "core/error.hpp"

namespace latflow {

namespace {

std::vector<at::Generator> generators() {
  std::vector<at::Generator> gens{at::globalContext().defaultGenerator(c10::Device(c10::kCPU))};
  if (torch::cuda::is_available())
    for (std::size_t i = 0; i < static_cast<std::size_t>(torch::cuda::device_count()); ++i)
      gens.push_back(at::globalContext().defaultGenerator(
          c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i))));
  return gens;
}

at::Tensor string_tensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<std::int64_t>(s.size())}, torch::kUInt8)
      .clone();
}
std::string tensor_string(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<std::uint8_t>()), c.numel());
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer) {
    torch::serialize::OutputArchive opt_archive;
    optimizer->save(opt_archive);
    archive.write("optimizer", opt_archive);
  }
  auto gens = generators();
  for (std::size_t i = 0; i < gens.size(); ++i) {
    std::lock_guard<std::mutex> lock(gens[i].mutex());
    archive.write("rng" + std::to_string(i), gens[i].get_state());
  }
  archive.write("step", torch::tensor(meta.step, torch::kInt64));
  archive.write("seconds", torch::tensor(meta.seconds, torch::kFloat64));
  archive.write("runcard", string_tensor(meta.runcard));
  archive.write("target_step", torch::tensor(meta.target_step, torch::kInt64));
  archive.write("target_seconds", torch::tensor(meta.target_seconds, torch::kFloat64));

  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  if (!std::filesystem::exists(path)) throw UserError("no checkpoint at '" + path + "'");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw UserError("checkpoint '" + path + "' cannot be read (" + e.what_without_backtrace() + ")");
  }
  // A fresh tensor per key: read() into a defined tensor would set_() it to storage of another type.
  const auto read = [&archive](const char* key) {
    at::Tensor t;
    archive.read(key, t);
    return t;
  };
  CheckpointMeta meta;
  meta.step = read("step").item<std::int64_t>();
  meta.seconds = read("seconds").item<double>();
  meta.runcard = tensor_string(read("runcard"));
  at::Tensor t;
  if (archive.try_read("target_step", t)) meta.target_step = t.item<std::int64_t>();
  at::Tensor u;
  if (archive.try_read("target_seconds", u)) meta.target_seconds = u.item<double>();
  return meta;
}

CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng) {
  const CheckpointMeta meta = read_checkpoint_meta(path);
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  try {
    model.load(model_archive);
  } catch (const c10::Error& e) {
    throw UserError("checkpoint '" + path + "' does not fit this model (" + e.what_without_backtrace() + ")");
  }
  if (optimizer) {
    torch::serialize::InputArchive opt_archive;
    if (archive.try_read("optimizer", opt_archive)) optimizer->load(opt_archive);
  }
  if (restore_rng) {
    const auto gens = generators();
    for (std::size_t i = 0; i < gens.size(); ++i) {
      at::Tensor state;
      if (!archive.try_read("rng" + std::to_string(i), state)) continue;
      auto g = gens[i];
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_state(state);
    }
  }
  return meta;
}

}  // namespace latflow
