// Trainer throughput: samples/s of a 784-256-256-10 ReLU MLP, Adam, batch 128, float32,
// on the 60,000 Fashion-MNIST training images held in memory, next to the machine's
// single-core float32 GEMM peak measured in the same run with the same backend.
//
//   bench_trainer [--epochs N] [--threads 1,2] [--anchor SAMPLES_PER_S] [--data-dir DIR]
//
// Each setting: 20 warm-up steps, then N timed epochs (default 3); the table shows the
// median epoch. --anchor adds a column with the ratio to a reference (e.g. PyTorch's).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "nn/data.h"
#include "nn/gemm.h"
#include "nn/trainer.h"

namespace nn = caviar::nn;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Best of `repeats` 1024³ products on one thread: the single-core peak we compare against.
double gemm_peak_gflops(int repeats) {
  const Eigen::Index n = 1024;
  nn::Matrix a = nn::Matrix::Random(n, n), b = nn::Matrix::Random(n, n), c(n, n);
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    nn::gemm(1.0f, a, nn::Transpose::No, b, nn::Transpose::No, 0.0f, c);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * n * n * n / best / 1e9;
}

// Floating-point operations of one training sample: forward, weight gradients, and
// input gradients of every layer but the first (which needs none).
double flops_per_sample(const std::vector<int>& sizes) {
  double macs = 0;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    const double layer = double(sizes[i]) * sizes[i + 1];
    macs += 2 * layer + (i > 0 ? layer : 0);
  }
  return 2 * macs;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 3;
  std::vector<int> thread_counts{1, 2};
  double anchor = 0;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") epochs = std::stoi(value);
    else if (flag == "--threads") thread_counts = parse_list(value);
    else if (flag == "--anchor") anchor = std::stod(value);
    else if (flag == "--data-dir") data_dir = value;
    else {
      fmt::print(stderr, "usage: bench_trainer [--epochs N] [--threads 1,2] [--anchor S/s] [--data-dir DIR]\n");
      return 2;
    }
  }

  auto data = std::make_shared<nn::Dataset>();
  data->num_classes = 10;
  data->features = nn::read_idx_images(data_dir + "/train-images-idx3-ubyte.gz");
  data->labels = nn::read_idx_labels(data_dir + "/train-labels-idx1-ubyte.gz", 10);
  const nn::DataView all{data, 0, data->features.cols()};

  nn::TrainConfig config;
  config.layers = 2;
  config.units = 256;
  config.batch_size = 128;
  config.optimizer = nn::OptimizerKind::Adam;
  config.lr = 1e-3;
  const double flops = flops_per_sample({784, 256, 256, 10});
  const double peak = gemm_peak_gflops(5);

  fmt::print("784-256-256-10 MLP, Adam, batch 128, float32, {} samples per epoch; "
             "{:.2f} MFLOP per sample\n", all.count, flops / 1e6);
  fmt::print("single-core sgemm peak (1024^3, OpenBLAS): {:.1f} GFLOP/s\n\n", peak);
  fmt::print("| threads | samples/s (median of {}) | GFLOP/s | of 1-core peak | of threads x peak | train loss |{}\n",
             epochs, anchor > 0 ? " vs anchor |" : "");
  fmt::print("|---:|---:|---:|---:|---:|---:|{}\n", anchor > 0 ? "---:|" : "");
  for (int threads : thread_counts) {
    config.threads = threads;
    nn::Trainer trainer(config, 784, 10);
    trainer.train_epoch(all, config.lr, 20);  // warm-up
    std::vector<double> rates;
    double loss = 0;
    for (int e = 0; e < epochs; ++e) {
      const auto start = Clock::now();
      loss = trainer.train_epoch(all, config.lr).mean_loss;
      rates.push_back(static_cast<double>(all.count) / seconds_since(start));
    }
    std::sort(rates.begin(), rates.end());
    const double rate = rates[rates.size() / 2];
    const double gflops = rate * flops / 1e9;
    fmt::print("| {} | {:.0f} | {:.1f} | {:.0f}% | {:.0f}% | {:.4f} |{}\n", threads, rate, gflops,
               100 * gflops / peak, 100 * gflops / (peak * threads), loss,
               anchor > 0 ? fmt::format(" {:.2f}x |", rate / anchor) : "");
    std::fflush(stdout);
  }
  return 0;
}
