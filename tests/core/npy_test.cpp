#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/npy.hpp"

using namespace latflow;

TEST_CASE("npy structured records: header layout and data", "[core][npy]") {
  const auto path = (std::filesystem::temp_directory_path() / "latflow-test.npy").string();
  const std::vector<double> data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // 2 records of 4 + 1 + 1
  npy::write_records(path, {{"phi", {2, 2}}, {"logq", {}}, {"action", {}}}, 2, data);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  const std::size_t header_len = static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
  CHECK((10 + header_len) % 64 == 0);
  const std::string header = bytes.substr(10, header_len);
  CHECK(header.find("('phi', '<f8', (2,2,))") != std::string::npos);
  CHECK(header.find("('logq', '<f8')") != std::string::npos);
  CHECK(header.find("'shape': (2,)") != std::string::npos);
  CHECK(header.back() == '\n');
  REQUIRE(bytes.size() == 10 + header_len + data.size() * sizeof(double));
  std::vector<double> back(data.size());
  std::memcpy(back.data(), bytes.data() + 10 + header_len, data.size() * sizeof(double));
  CHECK(back == data);
  CHECK_THROWS(npy::write_records(path, {{"x", {}}}, 3, data));
}
