// Data sets for the trainer: Fashion-MNIST idx files (gzip or plain), CSV files and a
// synthetic spiral set, each split into training, validation and test parts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caviar/nn.h"
#include "nn/gemm.h"

namespace caviar::nn {

// Samples as columns of a float matrix with integer class labels. A plain value.
struct Dataset {
  Matrix features;                  // features × samples
  std::vector<std::int32_t> labels; // in [0, num_classes)
  int num_classes = 0;
  std::vector<std::string> class_names;  // CSV only: the label text of each class
};

// A contiguous range of samples of a shared, read-only data set. Cheap to copy.
struct DataView {
  std::shared_ptr<const Dataset> data;
  Eigen::Index begin = 0, count = 0;

  MatrixView features() const { return data->features.middleCols(begin, count); }
  const std::int32_t* labels() const { return data->labels.data() + begin; }
  Eigen::Index dimension() const { return data->features.rows(); }
  int num_classes() const { return data->num_classes; }
};

struct DataSplits {
  DataView train, validation, test;
};

// The splits that `config` asks for (dataset, train_subset, ...). Fashion-MNIST: training
// = the first 50,000 images of the training file, validation = its last 10,000, test =
// the official t10k files; pixels scaled to [0, 1]. CSV and spirals: a fixed shuffle
// (independent of config.seed) split 70/15/15; CSV features standardised with the
// training part's mean and deviation. Files are read once per process and shared.
// Throws DataError for files that are missing or malformed.
DataSplits load_splits(const TrainConfig& config);

// The idx readers (gzip or plain, detected by zlib). Images: magic 0x00000803, scaled to
// [0, 1], one image per column. Labels: magic 0x00000801, each < num_classes.
// Throw DataError("path", why) for a missing file, a wrong magic, a truncated file or a
// label out of range.
Matrix read_idx_images(const std::string& path);
std::vector<std::int32_t> read_idx_labels(const std::string& path, int num_classes);

// A CSV file with a header row: `label_column` holds the class (any text; classes are
// numbered in sorted order, numerically when all labels are numbers); every other column
// must be numeric. Throws DataError naming the file and the line.
Dataset read_csv(const std::string& path, const std::string& label_column);

// K interleaved spiral arms in the plane, `points_per_class` each, with a little noise.
// Deterministic in `seed`.
Dataset make_spirals(int classes, int points_per_class, std::uint64_t seed);

}  // namespace caviar::nn
