// The search space: named parameters, each with a type, a range and a scale.
//
// Every sampler works in the scale-transformed unit cube: Parameter::to_unit maps a value
// to [0, 1] so that uniform sampling in the cube is uniform on the parameter's scale, and
// Parameter::from_unit maps back (rounding ints, steps and choices). So a sampler gets
// log, reverse_log and logit right without knowing they exist.
//
// A parameter's value is kept in its *internal* form, a double: the number itself for
// float and int, the index into `choices` for choice. This is also the value Optuna keeps
// in its `trial_params.param_value` column. Parameter::external gives the user's value.
//
// A SearchSpace is a plain value: copy it freely; const methods are safe from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace caviar {

using json = nlohmann::json;

enum class ParamType { Float, Int, Choice };

// How values are spread between low and high.
//   Linear:     uniform in x.
//   Log:        uniform in log(x); needs 0 < low. For learning rates (α).
//   ReverseLog: uniform in log(1 − x); needs high < 1. For β near 1: with β in
//               [0.9, 0.999], log10(1 − β) is uniform on [−3, −1].
//   Logit:      uniform in log(x / (1 − x)); needs 0 < low < high < 1. For rates where
//               both ends matter (dropout, a mixing weight).
enum class Scale { Linear, Log, ReverseLog, Logit };

const char* to_string(ParamType type);
const char* to_string(Scale scale);

// A condition under which a parameter exists: `when: "optimizer == adam"`,
// `"optimizer != sgd"` or `"optimizer in [adam, rmsprop]"`. When it fails, the parameter is
// absent from the trial (not defaulted).
struct Condition {
  enum class Op { Equal, NotEqual, In };
  std::string param;
  Op op = Op::Equal;
  std::vector<std::string> values;  // compared with the other parameter's value as text
  std::string text;                 // as written, for messages

  // Parses "name == value", "name != value" or "name in [a, b]". Throws ConfigError.
  static Condition parse(const std::string& text, const std::string& where);
  bool holds(const std::string& value) const;
};

// Params: the sampled parameters of one trial, name to internal value.
using Params = std::map<std::string, double>;

struct Parameter {
  std::string name;
  ParamType type = ParamType::Float;
  double low = 0, high = 1;         // float and int
  std::optional<double> step;       // float and int; ints default to 1
  Scale scale = Scale::Linear;
  std::vector<json> choices;        // choice
  std::optional<Condition> when;

  // Checks the definition; throws ConfigError naming `where` and the cause.
  void validate(const std::string& where) const;

  // Internal value -> [0, 1]. For ints and steps: the centre of the value's cell.
  double to_unit(double internal) const;
  // [0, 1] -> internal value on the grid of allowed values (rounded, clamped).
  double from_unit(double u) const;
  // The user's value: a JSON number (float, integer) or the choice itself.
  json external(double internal) const;
  // The user's value as text, as placed into a command line: shortest round-trip form.
  std::string text(double internal) const;
  // The internal value of a user's value; throws UsageError if it is not in the space.
  double internal(const json& external) const;
  // A float or int `x` (internal) times `f` on this parameter's scale: log and linear x·f,
  // reverse_log 1 − (1 − x)·f, logit the odds x/(1 − x)·f; clamped to [low, high]; ints and
  // stepped floats rounded to their grid, moving at least one step in f's direction when
  // rounding would undo the change (PBT's perturbation, babysitting's nudges).
  double scaled(double x, double f) const;
  // Number of distinct values, or 0 for a continuous float.
  std::size_t cardinality() const;
  // A parameter from its config definition ({type: float, low: 1e-5, high: 1, scale: log}).
  // Throws ConfigError naming `where` and the key at fault.
  static Parameter from_config_json(const std::string& name, const json& definition,
                                    const std::string& where);
};

class SearchSpace {
 public:
  SearchSpace() = default;
  explicit SearchSpace(std::vector<Parameter> params);  // validates; throws ConfigError

  // Adds one parameter; throws ConfigError on a duplicate name or a bad definition.
  SearchSpace& add(Parameter p);
  // Finishes the space: checks every `when` names a known parameter and that conditions
  // form no cycle. Called by the constructor; call it after the last add().
  void check() const;

  const std::vector<Parameter>& params() const { return params_; }
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const Parameter* find(const std::string& name) const;
  const Parameter& at(const std::string& name) const;  // throws UsageError

  // Whether `p` exists given the other values chosen so far (its condition's parameter
  // must be present and satisfy it).
  bool active(const Parameter& p, const Params& chosen) const;

  // Builds a trial's params from a point of the unit cube (one coordinate per parameter,
  // in params() order), dropping parameters whose condition fails. Values in `fixed`
  // (internal) win over the cube's.
  Params from_unit(const std::vector<double>& u, const Params& fixed = {}) const;

  // The params as a JSON object of user values (name to value).
  json to_json(const Params& params) const;
  // The inverse; unknown names or values out of the space throw UsageError.
  Params from_json(const json& object) const;

  // The space as a list of config definitions ([{name, type, low, ...}], in order), and
  // back (from that list or from a {name: definition} mapping). from_config_json checks every key and value and throws ConfigError naming the
  // path (`parameters.lr.sclae: unknown key; did you mean 'scale'?`).
  json to_config_json() const;
  // Every parameter by name (built once, in add()). Shared, so that the trials of a space
  // point at it instead of copying (TrialRecord::parameters).
  const std::shared_ptr<const std::map<std::string, Parameter>>& by_name() const {
    return by_name_;
  }
  static SearchSpace from_config_json(const json& parameters,
                                      const std::string& where = "parameters");

 private:
  std::vector<Parameter> params_;
  std::shared_ptr<const std::map<std::string, Parameter>> by_name_ =
      std::make_shared<const std::map<std::string, Parameter>>();
};

}  // namespace caviar
