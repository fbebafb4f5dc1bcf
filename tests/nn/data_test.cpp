// The data readers: idx round trip through gzip, one test per kind of bad input, CSV,
// spirals and the splits.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <algorithm>
#include <cmath>

#include <unistd.h>

#include "nn/data.h"

namespace caviar::nn {
namespace {

namespace fs = std::filesystem;

class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("caviar_nn_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
            "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_gzip(const std::string& name, const std::vector<unsigned char>& bytes) const {
    const auto p = path(name);
    gzFile file = gzopen(p.c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
    gzclose(file);
    return p;
  }

  std::string write_text(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }

  static void put32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
  }
  static std::vector<unsigned char> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                               std::size_t data_bytes) {
    std::vector<unsigned char> out;
    put32(out, 0x00000803);
    put32(out, count);
    put32(out, rows);
    put32(out, cols);
    for (std::size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<unsigned char>(i * 37 % 256));
    return out;
  }
  static std::vector<unsigned char> idx_labels(const std::vector<unsigned char>& labels) {
    std::vector<unsigned char> out;
    put32(out, 0x00000801);
    put32(out, static_cast<std::uint32_t>(labels.size()));
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
  }

  // Runs f, expecting a DataError about `file` whose reason contains `why`.
  template <class F>
  static void expect_data_error(F f, const std::string& file, const std::string& why) {
    try {
      f();
      ADD_FAILURE() << "no DataError for " << file;
    } catch (const DataError& e) {
      EXPECT_EQ(e.where(), file);
      EXPECT_NE(e.why().find(why), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(DataFiles, IdxImagesRoundTripThroughGzip) {
  const auto p = write_gzip("images.gz", idx_images(3, 2, 4, 3 * 2 * 4));
  const Matrix images = read_idx_images(p);
  ASSERT_EQ(images.rows(), 8);
  ASSERT_EQ(images.cols(), 3);
  for (int image = 0; image < 3; ++image)
    for (int pixel = 0; pixel < 8; ++pixel)
      EXPECT_FLOAT_EQ(images(pixel, image), float((image * 8 + pixel) * 37 % 256) / 255.0f);
}

TEST_F(DataFiles, IdxLabelsRoundTripThroughGzip) {
  const auto p = write_gzip("labels.gz", idx_labels({3, 0, 9, 1}));
  EXPECT_EQ(read_idx_labels(p, 10), (std::vector<std::int32_t>{3, 0, 9, 1}));
}

TEST_F(DataFiles, IdxPlainFileIsReadToo) {
  const auto bytes = idx_labels({1, 2});
  std::ofstream(path("plain"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 10);
  EXPECT_EQ(read_idx_labels(path("plain"), 10), (std::vector<std::int32_t>{1, 2}));
}

TEST_F(DataFiles, MissingFile) {
  const auto p = path("nope.gz");
  expect_data_error([&] { read_idx_images(p); }, p, "no such file");
}

TEST_F(DataFiles, WrongMagic) {
  const auto p = write_gzip("labels.gz", idx_labels({1, 2, 3}));
  expect_data_error([&] { read_idx_images(p); }, p, "magic 0x00000801, expected 0x00000803");
}

TEST_F(DataFiles, TruncatedData) {
  const auto p = write_gzip("short.gz", idx_images(5, 2, 2, 19));  // one byte short
  expect_data_error([&] { read_idx_images(p); }, p, "truncated");
}

TEST_F(DataFiles, TruncatedHeader) {
  auto bytes = idx_images(5, 2, 2, 0);
  bytes.resize(9);
  const auto p = write_gzip("header.gz", bytes);
  expect_data_error([&] { read_idx_images(p); }, p, "truncated");
}

TEST_F(DataFiles, TruncatedGzipStream) {
  const auto full = write_gzip("full.gz", idx_images(50, 8, 8, 50 * 64));
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto p = write_text("cut.gz", bytes.substr(0, bytes.size() / 2));
  expect_data_error([&] { read_idx_images(p); }, p, "truncated");
}

TEST_F(DataFiles, LabelOutOfRange) {
  const auto p = write_gzip("labels.gz", idx_labels({1, 12, 3}));
  expect_data_error([&] { read_idx_labels(p, 10); }, p, "label 12 of item 1 is out of range");
}

TEST_F(DataFiles, CsvWithTextLabels) {
  const auto p = write_text("iris.csv",
                            "sepal,species,petal\n1.0,setosa,2\n2.0,virginica,4\n\n3.0,setosa,6\n"
                            "4,\"versicolor\",8\n");
  const Dataset data = read_csv(p, "species");
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{0, 2, 0, 1}));
  ASSERT_EQ(data.features.rows(), 2);
  ASSERT_EQ(data.features.cols(), 4);
  EXPECT_FLOAT_EQ(data.features(0, 3), 4.0f);
  EXPECT_FLOAT_EQ(data.features(1, 3), 8.0f);
}

TEST_F(DataFiles, CsvNumericLabelsSortNumerically) {
  const auto p = write_text("n.csv", "x,y\n1,10\n2,9\n3,10\n");
  const Dataset data = read_csv(p, "y");
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"9", "10"}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{1, 0, 1}));
}

TEST_F(DataFiles, CsvErrors) {
  const auto p = write_text("bad.csv", "a,b,label\n1,2,x\n1,oops,y\n");
  expect_data_error([&] { read_csv(p, "label"); }, p, "line 3, column 'b': 'oops' is not a number");
  expect_data_error([&] { read_csv(p, "class"); }, p, "no column named 'class'");
  const auto short_row = write_text("short.csv", "a,label\n1,x\n2\n");
  expect_data_error([&] { read_csv(short_row, "label"); }, short_row, "line 3: 1 fields");
  expect_data_error([&] { read_csv(path("none.csv"), "label"); }, path("none.csv"), "no such file");
}

TEST_F(DataFiles, CsvSplitsAreStandardised) {
  std::string text = "f1,f2,label\n";
  for (int i = 0; i < 200; ++i) text += std::to_string(i) + "," + std::to_string(1000 + 3 * i) + "," + std::to_string(i % 2) + "\n";
  TrainConfig config;
  config.dataset = write_text("big.csv", text);
  const DataSplits splits = load_splits(config);
  EXPECT_EQ(splits.train.count, 140);
  EXPECT_EQ(splits.validation.count, 30);
  EXPECT_EQ(splits.test.count, 30);
  const Matrix train = splits.train.features();
  EXPECT_NEAR(train.row(1).mean(), 0.0, 1e-4);
  EXPECT_NEAR(std::sqrt(train.row(1).array().square().mean()), 1.0, 1e-4);
}

TEST(Spirals, ShapeAndDeterminism) {
  const Dataset a = make_spirals(4, 50, 9), b = make_spirals(4, 50, 9), c = make_spirals(4, 50, 10);
  EXPECT_EQ(a.features.rows(), 2);
  EXPECT_EQ(a.features.cols(), 200);
  EXPECT_EQ(a.num_classes, 4);
  EXPECT_EQ(std::count(a.labels.begin(), a.labels.end(), 3), 50);
  EXPECT_EQ(a.features, b.features);
  EXPECT_NE(a.features, c.features);
  EXPECT_LE(a.features.colwise().norm().maxCoeff(), 1.0f + 1e-6f);
}

TEST(Splits, SpiralsAndSubset) {
  TrainConfig config;
  config.dataset = "spirals";
  config.spiral_classes = 3;
  config.spiral_points = 100;
  DataSplits splits = load_splits(config);
  EXPECT_EQ(splits.train.count + splits.validation.count + splits.test.count, 300);
  EXPECT_EQ(splits.validation.count, 45);
  config.train_subset = 17;
  EXPECT_EQ(load_splits(config).train.count, 17);
}

// Changed data for re-tuning: another subset, noisy labels, a class left out.
TEST(Splits, ChangedData) {
  TrainConfig config;
  config.dataset = "spirals";
  config.spiral_classes = 4;
  config.spiral_points = 500;
  const DataSplits base = load_splits(config);
  auto labels = [](const DataView& v) { return std::vector<std::int32_t>(v.labels(), v.labels() + v.count); };

  config.train_offset = 100;
  config.train_subset = 200;
  DataSplits moved = load_splits(config);
  EXPECT_EQ(moved.train.count, 200);
  EXPECT_EQ(labels(moved.train), std::vector<std::int32_t>(base.train.labels() + 100, base.train.labels() + 300));
  config.train_offset = static_cast<int>(base.train.count);
  EXPECT_THROW(load_splits(config), DataError);
  config.train_offset = 0;
  config.train_subset = 0;

  config.label_noise = 0.2;
  const DataSplits noisy = load_splits(config);
  ASSERT_EQ(noisy.train.count, base.train.count);
  std::size_t changed = 0;
  for (Eigen::Index i = 0; i < noisy.train.count; ++i) changed += noisy.train.labels()[i] != base.train.labels()[i];
  const double share = static_cast<double>(changed) / static_cast<double>(noisy.train.count);
  EXPECT_NEAR(share, 0.2, 0.04);  // 1,400 draws: the share's sd is 0.011
  EXPECT_EQ(noisy.train.features(), base.train.features());
  EXPECT_EQ(labels(noisy.validation), labels(base.validation)) << "only training labels are noisy";
  config.label_noise = 0;

  config.drop_class = 2;
  const DataSplits dropped = load_splits(config);
  for (const DataView* v : {&dropped.train, &dropped.validation, &dropped.test}) {
    const auto l = labels(*v);
    EXPECT_EQ(std::count(l.begin(), l.end(), 2), 0);
    EXPECT_GT(v->count, 0);
  }
  const auto before = labels(base.train);
  EXPECT_EQ(dropped.train.count, static_cast<Eigen::Index>(before.size() - std::count(before.begin(), before.end(), 2)));
  config.drop_class = 4;
  EXPECT_THROW(load_splits(config), DataError);
}

TEST(Splits, FashionMnist) {
  TrainConfig config;
  if (!fs::exists(config.data_dir + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const DataSplits splits = load_splits(config);
  EXPECT_EQ(splits.train.count, 50000);
  EXPECT_EQ(splits.validation.count, 10000);
  EXPECT_EQ(splits.validation.begin, 50000);
  EXPECT_EQ(splits.test.count, 10000);
  EXPECT_EQ(splits.train.dimension(), 784);
  EXPECT_EQ(splits.train.num_classes(), 10);
  EXPECT_GE(splits.train.features().minCoeff(), 0.0f);
  EXPECT_LE(splits.train.features().maxCoeff(), 1.0f);
  // The second call comes from the cache: the same shared data.
  EXPECT_EQ(load_splits(config).train.data.get(), splits.train.data.get());
  config.data_dir = "/nonexistent";
  EXPECT_THROW(load_splits(config), DataError);
}

}  // namespace
}  // namespace caviar::nn
