#pragma once
// Writes NumPy .npy files (format version 1.0) that Python loads with numpy.load, no extra package needed.
// A structured array keeps configurations and their per-sample numbers together:
//   a = numpy.load("samples.npy"); a["phi"].shape == (N, T, L) (a["theta"]: (N, 2, T, L)); a["logq"], a["action"]
#include <cstdint>
#include <string>
#include <vector>

namespace latflow::npy {

/// One field of a structured record: a name and the shape of its float64 block.
struct Field {
  std::string name;
  std::vector<std::int64_t> shape;  ///< per record; {} for a scalar
};

/// Writes `records` records of float64 fields, `data` holding them record by record (C order), atomically
/// (core/files.hpp).
void write_records(const std::string& path, const std::vector<Field>& fields, std::int64_t records,
                   const std::vector<double>& data);

}  // namespace latflow::npy
