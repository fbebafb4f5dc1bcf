// CSV data sets: a header row, one label column, numeric features.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "nn/data.h"

namespace caviar::nn {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One line split at commas outside double quotes; quotes are removed ("" is a quote).
std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& f : fields) f = std::string(trim(f));
  return fields;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Dataset read_csv(const std::string& path, const std::string& label_column) {
  std::ifstream in(path);
  if (!in) throw DataError(path, "no such file or not readable");
  std::string line;
  if (!std::getline(in, line)) throw DataError(path, "empty file: expected a header row");
  const auto header = split_fields(line);
  const auto label_it = std::find(header.begin(), header.end(), label_column);
  if (label_it == header.end()) {
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
    throw DataError(path, fmt::format("no column named '{}' (the header has: {})", label_column, names));
  }
  const auto label_index = static_cast<std::size_t>(label_it - header.begin());
  if (header.size() < 2) throw DataError(path, "no feature columns besides the label");

  std::vector<float> values;  // row-major, features only
  std::vector<std::string> label_texts;
  for (int line_number = 2; std::getline(in, line); ++line_number) {
    if (trim(line).empty()) continue;
    const auto fields = split_fields(line);
    if (fields.size() != header.size())
      throw DataError(path, fmt::format("line {}: {} fields, the header has {}", line_number,
                                        fields.size(), header.size()));
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (c == label_index) {
        if (fields[c].empty()) throw DataError(path, fmt::format("line {}: empty label", line_number));
        label_texts.push_back(fields[c]);
        continue;
      }
      const auto value = parse_number(fields[c]);
      if (!value)
        throw DataError(path, fmt::format("line {}, column '{}': '{}' is not a number", line_number,
                                          header[c], fields[c]));
      values.push_back(static_cast<float>(*value));
    }
  }
  if (label_texts.empty()) throw DataError(path, "no data rows after the header");

  // Classes in sorted order: numerically when every label is a number.
  std::vector<std::string> classes = label_texts;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  const bool numeric = std::all_of(classes.begin(), classes.end(),
                                   [](const std::string& s) { return parse_number(s).has_value(); });
  if (numeric)
    std::stable_sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      return *parse_number(a) < *parse_number(b);
    });
  if (classes.size() < 2)
    throw DataError(path, fmt::format("column '{}' holds a single class", label_column));
  std::map<std::string, std::int32_t> class_of;
  for (std::size_t i = 0; i < classes.size(); ++i) class_of[classes[i]] = static_cast<std::int32_t>(i);

  Dataset data;
  const auto rows = static_cast<Eigen::Index>(label_texts.size());
  const auto dims = static_cast<Eigen::Index>(header.size() - 1);
  data.features = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                      values.data(), rows, dims).transpose();
  data.labels.reserve(label_texts.size());
  for (const auto& text : label_texts) data.labels.push_back(class_of.at(text));
  data.num_classes = static_cast<int>(classes.size());
  data.class_names = std::move(classes);
  return data;
}

}  // namespace caviar::nn
