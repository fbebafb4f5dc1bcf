// The training, validation and test splits of each data set, and the per-process cache.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>

#include <fmt/core.h>

#include "nn/data.h"
#include "nn/random.h"

namespace caviar::nn {
namespace {

constexpr std::uint64_t kSplitSeed = 0x5eed5eedULL;  // splits do not move with config.seed
constexpr Eigen::Index kMnistValidation = 10000;

// Data sets read from files, shared read-only by every run in the process.
std::shared_ptr<const Dataset> cached(const std::string& key,
                                      const std::function<Dataset()>& load) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Dataset>> cache;
  std::lock_guard lock(mutex);  // held while loading: a second caller waits, not reloads
  auto& slot = cache[key];
  if (!slot) slot = std::make_shared<const Dataset>(load());
  return slot;
}

std::string idx_path(const std::string& dir, const std::string& stem) {
  const auto gz = (std::filesystem::path(dir) / (stem + ".gz")).string();
  const auto plain = (std::filesystem::path(dir) / stem).string();
  return std::filesystem::exists(gz) || !std::filesystem::exists(plain) ? gz : plain;
}

Dataset read_mnist(const std::string& dir, const std::string& prefix) {
  Dataset data;
  data.num_classes = 10;
  data.features = read_idx_images(idx_path(dir, prefix + "-images-idx3-ubyte"));
  const auto labels_path = idx_path(dir, prefix + "-labels-idx1-ubyte");
  data.labels = read_idx_labels(labels_path, data.num_classes);
  if (static_cast<Eigen::Index>(data.labels.size()) != data.features.cols())
    throw DataError(labels_path, fmt::format("{} labels for {} images", data.labels.size(),
                                             data.features.cols()));
  return data;
}

DataSplits mnist_splits(const TrainConfig& config) {
  auto train = cached("fashion-mnist:train:" + config.data_dir,
                      [&] { return read_mnist(config.data_dir, "train"); });
  auto test = cached("fashion-mnist:test:" + config.data_dir,
                     [&] { return read_mnist(config.data_dir, "t10k"); });
  const Eigen::Index total = train->features.cols();
  if (total <= kMnistValidation)
    throw DataError(config.data_dir, fmt::format("only {} training images", total));
  const Eigen::Index fit = total - kMnistValidation;
  return {{train, 0, fit}, {train, fit, kMnistValidation}, {test, 0, test->features.cols()}};
}

// A fixed shuffle of all samples, then 70% training, 15% validation, 15% test.
Dataset shuffled(const Dataset& data) {
  std::vector<Eigen::Index> order(data.labels.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(kSplitSeed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  Dataset out;
  out.num_classes = data.num_classes;
  out.class_names = data.class_names;
  out.features.resize(data.features.rows(), data.features.cols());
  out.labels.resize(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    out.features.col(static_cast<Eigen::Index>(i)) = data.features.col(order[i]);
    out.labels[i] = data.labels[order[i]];
  }
  return out;
}

struct Parts {
  Eigen::Index train, validation, test;
};

Parts parts_of(Eigen::Index n, const std::string& where) {
  const Eigen::Index held = std::max<Eigen::Index>(1, n * 15 / 100);
  if (n - 2 * held < 1) throw DataError(where, fmt::format("only {} samples; need at least 3", n));
  return {n - 2 * held, held, held};
}

// Scales every feature to mean 0 and deviation 1 over the first `fit` samples.
void standardise(Dataset& data, Eigen::Index fit) {
  for (Eigen::Index r = 0; r < data.features.rows(); ++r) {
    auto row = data.features.row(r);
    const double mean = row.head(fit).cast<double>().mean();
    const double var = (row.head(fit).cast<double>().array() - mean).square().mean();
    const double deviation = var > 1e-24 ? std::sqrt(var) : 1.0;
    row = ((row.cast<double>().array() - mean) / deviation).cast<float>().matrix();
  }
}

DataSplits shuffled_splits(std::shared_ptr<const Dataset> data, const std::string& where) {
  const Parts p = parts_of(data->features.cols(), where);
  return {{data, 0, p.train}, {data, p.train, p.validation},
          {data, p.train + p.validation, p.test}};
}

// The samples of `view` except those of class `drop`, as a data set of their own.
DataView without_class(const DataView& view, int drop) {
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < view.count; ++i)
    if (view.labels()[i] != drop) keep.push_back(i);
  auto out = std::make_shared<Dataset>();
  out->num_classes = view.num_classes();
  out->class_names = view.data->class_names;
  out->features.resize(view.dimension(), static_cast<Eigen::Index>(keep.size()));
  out->labels.resize(keep.size());
  for (std::size_t j = 0; j < keep.size(); ++j) {
    out->features.col(static_cast<Eigen::Index>(j)) = view.features().col(keep[j]);
    out->labels[j] = view.labels()[keep[j]];
  }
  return {out, 0, static_cast<Eigen::Index>(keep.size())};
}

// `view` with a share `noise` of its labels replaced by another class, by fixed draws.
DataView with_label_noise(const DataView& view, double noise) {
  auto out = std::make_shared<Dataset>();
  out->num_classes = view.num_classes();
  out->class_names = view.data->class_names;
  out->features = view.features();
  out->labels.assign(view.labels(), view.labels() + view.count);
  Rng rng(kSplitSeed ^ 0x6e6f697365ULL);
  const auto k = static_cast<std::uint64_t>(std::max(2, out->num_classes));
  for (auto& label : out->labels)
    if (rng.uniform() < noise)
      label = static_cast<std::int32_t>((static_cast<std::uint64_t>(label) + 1 + rng.below(k - 1)) % k);
  return {out, 0, view.count};
}

}  // namespace

DataSplits load_splits(const TrainConfig& config) {
  DataSplits splits;
  if (config.dataset == "fashion-mnist") {
    splits = mnist_splits(config);
  } else if (config.dataset == "spirals") {
    splits = shuffled_splits(std::make_shared<const Dataset>(shuffled(
                                 make_spirals(config.spiral_classes, config.spiral_points, 1))),
                             "spirals");
  } else {
    const auto& path = config.dataset;
    auto data = cached("csv:" + config.label_column + ":" + path, [&] {
      Dataset d = shuffled(read_csv(path, config.label_column));
      standardise(d, parts_of(d.features.cols(), path).train);
      return d;
    });
    splits = shuffled_splits(std::move(data), path);
  }
  if (config.train_offset > 0) {
    if (config.train_offset >= splits.train.count)
      throw DataError("--train-offset", fmt::format("{} is past the {} training samples", config.train_offset,
                                                    splits.train.count));
    splits.train.begin += config.train_offset;
    splits.train.count -= config.train_offset;
  }
  if (config.train_subset > 0)
    splits.train.count = std::min<Eigen::Index>(splits.train.count, config.train_subset);
  if (config.drop_class >= 0) {
    if (config.drop_class >= splits.train.num_classes())
      throw DataError("--drop-class", fmt::format("there are {} classes (0-{})", splits.train.num_classes(),
                                                  splits.train.num_classes() - 1));
    splits.train = without_class(splits.train, config.drop_class);
    splits.validation = without_class(splits.validation, config.drop_class);
    splits.test = without_class(splits.test, config.drop_class);
  }
  if (config.label_noise > 0) splits.train = with_label_noise(splits.train, config.label_noise);
  return splits;
}

}  // namespace caviar::nn
