// The trainer's checkpoint file: everything train() needs to continue a run exactly.
//
// Layout (little-endian), version 1:
//   header   "CAVIARNN" (8 bytes), u32 version, u64 payload size, u64 FNV-1a of the payload
//   payload  i32 epochs done; u32 n, i32 layer sizes[n]; u32 optimizer kind;
//            i64 optimizer step; u64 shuffling generator state[4];
//            u64 count, f32 parameters[count];
//            u32 buffers, then per buffer: u64 count, f32 values[count]
// The size and the checksum make a truncated or damaged file an error, never a silently
// different network.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "nn/trainer.h"

namespace caviar::nn {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are written little-endian");

constexpr char kMagic[8] = {'C', 'A', 'V', 'I', 'A', 'R', 'N', 'N'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderSize = 8 + 4 + 8 + 8;

std::uint64_t fnv1a(const char* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Writer {
 public:
  template <class T>
  void put(const T& value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void floats(std::span<const float> values) {
    put<std::uint64_t>(values.size());
    out_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const std::string& bytes, std::size_t begin, std::string file)
      : bytes_(bytes), at_(begin), file_(std::move(file)) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  // Reads a float array into `out`, which must have exactly the stored count.
  void floats(std::span<float> out, const std::string& what) {
    const auto count = get<std::uint64_t>();
    if (count != out.size())
      throw DataError(file_, fmt::format("the checkpoint's {} has {} values, this run needs {}", what,
                                         count, out.size()));
    need(out.size_bytes());
    std::memcpy(out.data(), bytes_.data() + at_, out.size_bytes());
    at_ += out.size_bytes();
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - at_ < n) throw DataError(file_, "damaged checkpoint: it ends too early");
  }
  const std::string& bytes_;
  std::size_t at_;
  std::string file_;
};

std::string sizes_text(const std::vector<int>& sizes) { return fmt::format("{}", fmt::join(sizes, "-")); }

}  // namespace

void Trainer::save(const std::filesystem::path& file, int epoch) {
  Writer payload;
  payload.put<std::int32_t>(epoch);
  payload.put<std::uint32_t>(static_cast<std::uint32_t>(network_.sizes().size()));
  for (int size : network_.sizes()) payload.put<std::int32_t>(size);
  payload.put<std::uint32_t>(static_cast<std::uint32_t>(config_.optimizer));
  payload.put<std::int64_t>(optimizer_->step());
  for (std::uint64_t word : rng_.state()) payload.put(word);
  payload.floats(network_.parameters());
  const auto buffers = optimizer_->state();
  payload.put<std::uint32_t>(static_cast<std::uint32_t>(buffers.size()));
  for (const auto& buffer : buffers) payload.floats(buffer);

  Writer header;
  for (char c : kMagic) header.put(c);
  header.put(kVersion);
  header.put<std::uint64_t>(payload.bytes().size());
  header.put(fnv1a(payload.bytes().data(), payload.bytes().size()));

  // A temporary file in the same folder, renamed over the old one: readers see either
  // the previous checkpoint or this one, whole.
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw DataError(file.parent_path().string(), "cannot create the checkpoint folder: " + ec.message());
  std::filesystem::path temporary = file;
  temporary += fmt::format(".tmp-{}", std::random_device{}());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(header.bytes().data(), static_cast<std::streamsize>(header.bytes().size()));
    out.write(payload.bytes().data(), static_cast<std::streamsize>(payload.bytes().size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary, ec);
      throw DataError(file.string(), "cannot write the checkpoint");
    }
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw DataError(file.string(), "cannot write the checkpoint: " + ec.message());
  }
}

int Trainer::restore(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(name, std::filesystem::exists(file) ? "cannot read the checkpoint" : "no such checkpoint");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t prefix = std::min(bytes.size(), sizeof kMagic);
  if (bytes.empty() || std::memcmp(bytes.data(), kMagic, prefix) != 0)
    throw DataError(name, "not a caviar trainer checkpoint (no CAVIARNN header)");
  if (bytes.size() < kHeaderSize) throw DataError(name, "damaged checkpoint: it ends too early");
  Reader header(bytes, sizeof kMagic, name);
  const auto version = header.get<std::uint32_t>();
  if (version != kVersion)
    throw DataError(name, fmt::format("checkpoint format {} is not the one this caviar reads ({})", version, kVersion));
  const auto size = header.get<std::uint64_t>();
  const auto checksum = header.get<std::uint64_t>();
  if (bytes.size() - kHeaderSize != size)
    throw DataError(name, fmt::format("damaged checkpoint: {} bytes of data where the header says {}",
                                      bytes.size() - kHeaderSize, size));
  if (fnv1a(bytes.data() + kHeaderSize, size) != checksum)
    throw DataError(name, "damaged checkpoint: its checksum does not match");

  Reader r(bytes, kHeaderSize, name);
  const int epoch = r.get<std::int32_t>();
  std::vector<int> sizes(r.get<std::uint32_t>());
  if (sizes.size() > 1024) throw DataError(name, "damaged checkpoint: implausible layer count");
  for (int& s : sizes) s = r.get<std::int32_t>();
  if (sizes != network_.sizes())
    throw DataError(name, fmt::format("the checkpoint's network has layer sizes {}, this run's {} "
                                      "(layers, units and the data set must match)",
                                      sizes_text(sizes), sizes_text(network_.sizes())));
  const auto kind = r.get<std::uint32_t>();
  if (kind != static_cast<std::uint32_t>(config_.optimizer)) {
    const auto saved = static_cast<OptimizerKind>(kind);
    throw DataError(name, fmt::format("the checkpoint was trained with the {} optimizer, this run uses {}",
                                      kind <= 3 ? to_string(saved) : "unknown", to_string(config_.optimizer)));
  }
  const auto step = r.get<std::int64_t>();
  std::array<std::uint64_t, 4> state{};
  for (auto& word : state) word = r.get<std::uint64_t>();
  // Read into copies first: a damaged file leaves this trainer as it was.
  std::vector<float> parameters(network_.parameters().size());
  r.floats(parameters, "network");
  auto buffers = optimizer_->state();
  const auto stored_buffers = r.get<std::uint32_t>();
  if (stored_buffers != buffers.size())
    throw DataError(name, "damaged checkpoint: the optimizer state does not fit");
  std::vector<std::vector<float>> values;
  for (const auto& buffer : buffers) {
    values.emplace_back(buffer.size());
    r.floats(values.back(), "optimizer state");
  }
  if (!r.done()) throw DataError(name, "damaged checkpoint: extra bytes at its end");
  if (epoch < 0 || step < 0) throw DataError(name, "damaged checkpoint: negative epoch or step");

  std::copy(parameters.begin(), parameters.end(), network_.parameters().begin());
  for (std::size_t i = 0; i < buffers.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), buffers[i].begin());
  optimizer_->set_step(step);
  rng_.set_state(state);
  return epoch;
}

}  // namespace caviar::nn
