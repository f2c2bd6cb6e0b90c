#include "train/checkpoint.hpp"

#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <sstream>

#include <boost/crc.hpp>
#include <torch/serialize.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/random.hpp"

namespace latflow {

namespace {

constexpr const char* kMagic = "latflow checkpoint 1\n";

using Crc64 = boost::crc_optimal<64, 0x42F0E1EBA9EA3693ULL, ~0ULL, ~0ULL, true, true>;

std::uint64_t crc64(const char* data, std::size_t size) {
  Crc64 crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

at::Tensor string_tensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<std::int64_t>(s.size())}, torch::kUInt8)
      .clone();
}
std::string tensor_string(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<std::uint8_t>()), c.numel());
}

/// The verified payload of a checkpoint file.
std::string read_payload(const std::string& path) {
  const std::string file = read_regular_file(path, "checkpoint");
  const std::string magic = kMagic;
  const auto corrupted = [&](const std::string& why) {
    return UserError("checkpoint '" + path + "' is corrupted (" + why +
                     "): it cannot be used; restore it from a copy or retrain");
  };
  if (file.compare(0, magic.size(), magic) != 0) {
    if (file.compare(0, 2, "PK") == 0)
      throw UserError("checkpoint '" + path + "' has no checksum (written by latflow 0.1); it cannot be verified, "
                      "retrain the run");
    throw UserError("'" + path + "' is not a latflow checkpoint");
  }
  const auto eol = file.find('\n', magic.size());
  if (eol == std::string::npos) throw corrupted("header cut short");
  unsigned long long size = 0, crc = 0;
  char extra = 0;
  const std::string header = file.substr(magic.size(), eol - magic.size());
  if (std::sscanf(header.c_str(), "payload %llu crc64 %16llx%c", &size, &crc, &extra) != 2)
    throw corrupted("unreadable header");
  const std::size_t begin = eol + 1;
  if (file.size() - begin != size)
    throw corrupted(std::to_string(file.size() - begin) + " payload bytes where the header says " +
                    std::to_string(size));
  if (crc64(file.data() + begin, size) != crc) throw corrupted("checksum mismatch");
  return file.substr(begin);
}

torch::serialize::InputArchive open_archive(const std::string& path, const std::string& payload,
                                            std::optional<c10::Device> device) {
  torch::serialize::InputArchive archive;
  std::istringstream in(payload);
  try {
    archive.load_from(in, device);
  } catch (const c10::Error& e) {
    // The checksum held, so this is not corruption: a payload LibTorch cannot read.
    throw UserError("checkpoint '" + path + "' cannot be read by this LibTorch (" + e.what_without_backtrace() + ")");
  }
  return archive;
}

CheckpointMeta read_meta(torch::serialize::InputArchive& archive) {
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
  meta.target_step = read("target_step").item<std::int64_t>();
  meta.target_seconds = read("target_seconds").item<double>();
  meta.stop_reason = tensor_string(read("stop_reason"));
  meta.bad_steps = read("bad_steps").item<std::int64_t>();
  if (at::Tensor shards; archive.try_read("shards", shards)) meta.shards = shards.item<std::int64_t>();
  return meta;
}

/// The first line of a LibTorch message (its context lines name C++ source files, not the user's problem).
std::string first_line(const c10::Error& e) {
  std::string m = e.what_without_backtrace();
  return m.substr(0, m.find('\n'));
}

std::string shape_text(at::IntArrayRef sizes) {
  std::string out = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "]";
}

/// Module::load replaces a parameter by whatever tensor the archive holds under its name, shape and all
/// (InputArchive::read set_()s it), so a mismatch would surface much later as an obscure LibTorch shape
/// error. Compare every tensor present in both first; what the archive lacks Module::load reports itself
/// (or, for the hierarchical flow, fills from a coarser level).
void check_shapes(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
                  const std::string& path) {
  const auto compare = [&](const std::string& key, const at::Tensor& mine, const char* what) {
    at::Tensor stored;
    if (archive.try_read(key, stored) && stored.sizes() != mine.sizes())
      throw UserError("checkpoint '" + path + "' does not fit this model: " + what + " '" + prefix + key +
                      "' has shape " + shape_text(stored.sizes()) + " in the checkpoint and " +
                      shape_text(mine.sizes()) + " in the model");
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) compare(p.key(), p.value(), "parameter");
  for (const auto& b : module.named_buffers(/*recurse=*/false)) compare(b.key(), b.value(), "buffer");
  for (const auto& c : module.named_children()) {
    torch::serialize::InputArchive child;
    if (archive.try_read(c.key(), child)) check_shapes(*c.value(), child, prefix + c.key() + ".", path);
  }
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
  auto gens = default_generators();
  for (std::size_t i = 0; i < gens.size(); ++i) {
    std::lock_guard<std::mutex> lock(gens[i].mutex());
    archive.write("rng" + std::to_string(i), gens[i].get_state());
  }
  archive.write("step", torch::tensor(meta.step, torch::kInt64));
  archive.write("seconds", torch::tensor(meta.seconds, torch::kFloat64));
  archive.write("runcard", string_tensor(meta.runcard));
  archive.write("target_step", torch::tensor(meta.target_step, torch::kInt64));
  archive.write("target_seconds", torch::tensor(meta.target_seconds, torch::kFloat64));
  archive.write("stop_reason", string_tensor(meta.stop_reason));
  archive.write("bad_steps", torch::tensor(meta.bad_steps, torch::kInt64));
  archive.write("shards", torch::tensor(meta.shards, torch::kInt64));

  std::ostringstream payload;
  archive.save_to(payload);
  const std::string bytes = payload.str();
  char header[64];
  std::snprintf(header, sizeof header, "payload %zu crc64 %016" PRIx64 "\n", bytes.size(),
                crc64(bytes.data(), bytes.size()));
  write_file_atomically(path, std::string(kMagic) + header + bytes);
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  auto archive = open_archive(path, read_payload(path), c10::Device(c10::kCPU));
  return read_meta(archive);
}

CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng,
                               std::optional<c10::Device> device) {
  auto archive = open_archive(path, read_payload(path), device);
  const CheckpointMeta meta = read_meta(archive);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  check_shapes(model, model_archive, "", path);
  try {
    model.load(model_archive);
  } catch (const c10::Error& e) {
    throw UserError("checkpoint '" + path + "' does not fit this model (" + first_line(e) + ")");
  }
  if (optimizer) {
    torch::serialize::InputArchive opt_archive;
    if (archive.try_read("optimizer", opt_archive)) {
      try {
        optimizer->load(opt_archive);
      } catch (const c10::Error& e) {
        throw UserError("checkpoint '" + path + "': its optimiser state does not fit this model (" + first_line(e) +
                        ")");
      }
    }
  }
  if (restore_rng) {
    const auto gens = default_generators();
    for (std::size_t i = 0; i < gens.size(); ++i) {
      at::Tensor state;
      if (!archive.try_read("rng" + std::to_string(i), state)) continue;
      auto g = gens[i];
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_state(state.to(c10::Device(c10::kCPU)));
    }
  }
  return meta;
}

}  // namespace latflow
