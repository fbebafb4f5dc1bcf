// caviar's one error model: typed exceptions inside the library, each carrying
// where the problem is and why. The command line prints "where: why" and exits 2.
#pragma once

#include <stdexcept>
#include <string>

namespace caviar {

// Base of every error caviar throws on purpose. what() is "where: why".
class Error : public std::runtime_error {
 public:
  Error(std::string where, std::string why);
  const std::string& where() const { return where_; }
  const std::string& why() const { return why_; }

 private:
  std::string where_;
  std::string why_;
};

// A configuration or search space that cannot be used. Nothing stored is touched.
class ConfigError : public Error {
  using Error::Error;
};

// A storage that cannot be opened, read or written, or that is not caviar's or Optuna's.
class StorageError : public Error {
  using Error::Error;
};

// A request that does not fit the study: unknown study or trial, a finished trial told again.
class UsageError : public Error {
  using Error::Error;
};

// Thrown inside an in-process objective (by Trial::report) to stop a trial that the
// pruner judged hopeless. The tuner's function executor (optimize(), tuner.h) catches it and stores the trial as pruned.
class TrialPruned : public std::exception {
 public:
  const char* what() const noexcept override { return "trial pruned"; }
};

}  // namespace caviar
