#include "core/npy.hpp"

#include <stdexcept>

#include "core/files.hpp"

namespace latflow::npy {

void write_records(const std::string& path, const std::vector<Field>& fields, std::int64_t records,
                   const std::vector<double>& data) {
  std::int64_t per_record = 0;
  std::string descr = "[";
  for (const auto& f : fields) {
    std::int64_t size = 1;
    std::string shape = "(";
    for (auto d : f.shape) size *= d, shape += std::to_string(d) + ",";
    shape += ")";
    per_record += size;
    descr += "('" + f.name + "', '<f8'" + (f.shape.empty() ? std::string() : ", " + shape) + "), ";
  }
  descr += "]";
  if (static_cast<std::int64_t>(data.size()) != per_record * records)
    throw std::logic_error("npy::write_records: data size does not match the fields");

  std::string header = "{'descr': " + descr + ", 'fortran_order': False, 'shape': (" +
                       std::to_string(records) + ",), }";
  // The magic (6) + version (2) + header length (2) + header + '\n' is padded to a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  const unsigned char preamble[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                    static_cast<unsigned char>(header.size() & 0xff),
                                    static_cast<unsigned char>(header.size() >> 8)};
  std::string bytes(reinterpret_cast<const char*>(preamble), sizeof preamble);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(double));
  write_file_atomically(path, bytes);
}

}  // namespace latflow::npy
