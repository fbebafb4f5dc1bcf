// The idx format of (Fashion-)MNIST: a big-endian header (0, 0, type, rank, then one
// 32-bit size per dimension) followed by the data; here unsigned bytes only.
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "nn/data.h"

namespace caviar::nn {
namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, rank 3
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, rank 1

// The whole file, inflated if it is gzip (zlib reads plain files unchanged).
std::vector<unsigned char> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw DataError(path, "no such file (is dataset-fashion-mnist installed?)");
  std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw DataError(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<unsigned char> bytes;
  constexpr unsigned kChunk = 1 << 20;
  for (;;) {
    const auto size = bytes.size();
    bytes.resize(size + kChunk);
    const int got = gzread(file.get(), bytes.data() + size, kChunk);
    int code = Z_OK;
    const char* message = gzerror(file.get(), &code);
    if (code == Z_BUF_ERROR) throw DataError(path, "truncated gzip stream");
    if (got < 0 || code != Z_OK) throw DataError(path, fmt::format("cannot read: {}", message));
    bytes.resize(size + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  return bytes;
}

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
         (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

struct Idx {
  std::vector<unsigned char> bytes;
  std::vector<std::size_t> dims;
  std::size_t offset = 0;  // where the data starts
};

Idx read_idx(const std::string& path, std::uint32_t magic, const char* what) {
  Idx idx{read_file(path), {}, 0};
  const std::size_t rank = magic & 0xff;
  idx.offset = 4 + 4 * rank;
  if (idx.bytes.size() < 4)
    throw DataError(path, fmt::format("truncated: {} bytes, not even a header", idx.bytes.size()));
  const std::uint32_t found = big_endian(idx.bytes.data());
  if (found != magic)
    throw DataError(path, fmt::format("not an idx file of {}: magic 0x{:08x}, expected 0x{:08x}",
                                      what, found, magic));
  if (idx.bytes.size() < idx.offset)
    throw DataError(path, fmt::format("truncated in the header ({} bytes)", idx.bytes.size()));
  std::size_t total = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    idx.dims.push_back(big_endian(idx.bytes.data() + 4 + 4 * d));
    total *= idx.dims.back();
  }
  const std::size_t have = idx.bytes.size() - idx.offset;
  if (have < total)
    throw DataError(path, fmt::format("truncated: the header promises {} bytes of data, the file "
                                      "has {}", total, have));
  if (have > total)
    throw DataError(path, fmt::format("{} bytes of trailing garbage after the data", have - total));
  return idx;
}

}  // namespace

Matrix read_idx_images(const std::string& path) {
  const Idx idx = read_idx(path, kImagesMagic, "images");
  const auto count = static_cast<Eigen::Index>(idx.dims[0]);
  const auto pixels = static_cast<Eigen::Index>(idx.dims[1] * idx.dims[2]);
  Matrix images(pixels, count);
  const unsigned char* data = idx.bytes.data() + idx.offset;
  float* out = images.data();
  for (Eigen::Index i = 0; i < pixels * count; ++i) out[i] = static_cast<float>(data[i]) / 255.0f;
  return images;
}

std::vector<std::int32_t> read_idx_labels(const std::string& path, int num_classes) {
  const Idx idx = read_idx(path, kLabelsMagic, "labels");
  std::vector<std::int32_t> labels(idx.dims[0]);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = idx.bytes[idx.offset + i];
    if (labels[i] >= num_classes)
      throw DataError(path, fmt::format("label {} of item {} is out of range [0, {})", labels[i], i,
                                        num_classes));
  }
  return labels;
}

}  // namespace caviar::nn
