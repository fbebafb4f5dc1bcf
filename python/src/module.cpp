// _caviar: caviar's library as a Python extension (pybind11), under the pure-Python package
// `caviar` (python/caviar/). An app on the top floor (docs/architecture.md): it includes the
// public headers only, and nothing includes it.
//
// The binding is thin: Study is caviar::Study, optimize() is caviar's Tuner with an
// in-process objective, suggest_* reads what the study's sampler chose, and Sampler is
// make_sampler() + suggest() for caviar.optuna. The GIL is released while caviar samples
// and stores, and taken again only to call the objective. docs/python.md is the user's page.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Python.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caviar/attributes.h"
#include "caviar/config.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/pruner.h"
#include "caviar/sampler.h"
#include "caviar/space.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/trial.h"
#include "caviar/tuner.h"

namespace py = pybind11;
using caviar::json;

namespace {

// ---- Python values <-> JSON -------------------------------------------------------------

json to_json(py::handle value, const std::string& where) {
  if (value.is_none()) return nullptr;
  if (PyBool_Check(value.ptr())) return value.cast<bool>();
  if (PyLong_Check(value.ptr())) return value.cast<long long>();
  if (PyFloat_Check(value.ptr())) return value.cast<double>();
  if (PyUnicode_Check(value.ptr())) return value.cast<std::string>();
  if (py::isinstance<py::dict>(value)) {
    json out = json::object();
    for (auto [k, v] : value.cast<py::dict>()) {
      if (!PyUnicode_Check(k.ptr())) throw caviar::ConfigError(where, "mapping keys must be text");
      const std::string key = k.cast<std::string>();
      out[key] = to_json(v, where + "." + key);
    }
    return out;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    json out = json::array();
    std::size_t i = 0;
    for (auto v : value) out.push_back(to_json(v, where + "[" + std::to_string(i++) + "]"));
    return out;
  }
  if (PyIndex_Check(value.ptr())) return py::int_(py::reinterpret_borrow<py::object>(value)).cast<long long>();
  if (py::hasattr(value, "__float__")) return py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>();
  throw caviar::ConfigError(where, "cannot be stored: a " +
                                       py::str(value.get_type().attr("__name__")).cast<std::string>());
}

py::object to_python(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return py::none();
    case json::value_t::boolean: return py::bool_(value.get<bool>());
    case json::value_t::number_integer: return py::int_(value.get<long long>());
    case json::value_t::number_unsigned: return py::int_(value.get<unsigned long long>());
    case json::value_t::number_float: return py::float_(value.get<double>());
    case json::value_t::string: return py::str(value.get<std::string>());
    case json::value_t::array: {
      py::list out;
      for (const auto& v : value) out.append(to_python(v));
      return out;
    }
    case json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : value.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default: return py::none();
  }
}

// A Python mapping of parameter names to definitions, in its order, as the [name,
// definition] pairs that space_from_parameters() reads (the config's own rules).
caviar::SearchSpace space_from_dict(const py::dict& space) {
  json pairs = json::array();
  for (auto [name, definition] : space) {
    const std::string key = py::str(name).cast<std::string>();
    pairs.push_back(json::array({key, to_json(definition, "parameters." + key)}));
  }
  return caviar::space_from_parameters(pairs);
}

// "tpe" or {"name": "tpe", "seed": 1, ...}, as the config's sampler: and pruner: take them.
json options_json(const py::object& value, const std::string& where) {
  if (PyUnicode_Check(value.ptr())) return json{{"name", value.cast<std::string>()}};
  return to_json(value, where);
}

// ---- Parameters asked for by suggest_* --------------------------------------------------

std::string number_text(double x) {
  json j = x;
  if (x == std::floor(x) && std::fabs(x) < 1e15) j = static_cast<long long>(x);
  return j.dump();
}

// A parameter in words: "float [1e-05, 1] log", "int [1, 8] step 2", "choice [sgd, adam]".
std::string describe(const caviar::Parameter& p) {
  std::string out = caviar::to_string(p.type);
  if (p.type == caviar::ParamType::Choice) {
    out += " " + json(p.choices).dump();
    return out;
  }
  out += " [" + number_text(p.low) + ", " + number_text(p.high) + "]";
  if (p.scale != caviar::Scale::Linear) out += std::string(" ") + caviar::to_string(p.scale);
  if (p.step && !(p.type == caviar::ParamType::Int && *p.step == 1)) out += " step " + number_text(*p.step);
  return out;
}

// Whether `asked` (what a suggest_* call names) is the declared parameter. Bounds, type,
// log and a given step must be the same; a declared reverse_log or logit float answers a
// suggest_float without log (Optuna has no such scales).
bool same_parameter(const caviar::Parameter& declared, const caviar::Parameter& asked) {
  using caviar::ParamType;
  using caviar::Scale;
  if (declared.type != asked.type) return false;
  if (declared.type == ParamType::Choice) return json(declared.choices) == json(asked.choices);
  if (declared.low != asked.low || declared.high != asked.high) return false;
  if ((declared.scale == Scale::Log) != (asked.scale == Scale::Log)) return false;
  const double one = declared.type == ParamType::Int ? 1.0 : 0.0;
  if (asked.step && declared.step.value_or(one) != *asked.step) return false;
  return true;
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// An undeclared parameter's value: uniform on its scale (caviar's random sampler on a
// space of this one parameter), the same for the same seed, trial and name.
double sample_alone(const caviar::Parameter& p, std::uint64_t seed, int number, caviar::Direction direction) {
  caviar::SearchSpace one({p});
  const std::vector<caviar::TrialRecord> no_history;
  const caviar::Params none;
  auto sampler = caviar::make_random_sampler(seed ^ fnv1a(p.name));
  caviar::SampleContext context{one, no_history, number, direction, none};
  return sampler->suggest(context)->at(p.name);
}

// ---- Trial ------------------------------------------------------------------------------

// The trial an objective (or study.ask()) gets. From ask() it owns its caviar::Trial and
// judges its own reports; inside optimize() it borrows the tuner's, whose report sink
// stores and judges them, for as long as the objective runs.
class PyTrial {
 public:
  PyTrial(std::shared_ptr<caviar::Study> study, std::unique_ptr<caviar::Trial> owned)
      : study_(std::move(study)), owned_(std::move(owned)), trial_(owned_.get()), number_(trial_->number()) {
    trial_->set_sinks(
        [this](std::int64_t step, double value) {
          study_->storage().report(trial_->id(), step, value);
          if (study_->should_prune(trial_->record())) pruned_ = true;
        },
        [this] { return pruned_.load(); });
  }
  PyTrial(std::shared_ptr<caviar::Study> study, caviar::Trial* borrowed)
      : study_(std::move(study)), trial_(borrowed), number_(borrowed->number()), borrowed_(true) {}

  int number() const { return number_; }
  bool from_optimize() const { return borrowed_; }
  caviar::Trial& trial() {
    if (!trial_)
      throw caviar::UsageError(where(), "the trial has finished; a finished trial takes no suggest or report");
    return *trial_;
  }
  void finish() {  // told, or its objective returned
    trial_ = nullptr;
    owned_.reset();
  }

  py::object suggest(caviar::Parameter asked, const std::string& call) {
    caviar::Trial& t = trial();
    const std::string at = "parameters." + asked.name;
    if (const caviar::Parameter* declared = study_->space().find(asked.name)) {
      if (!same_parameter(*declared, asked))
        throw caviar::UsageError(at, call + " asks for " + describe(asked) + ", but the study declares " +
                                         describe(*declared));
      if (!t.has(asked.name))
        throw caviar::UsageError(at, declared->when ? "absent from this trial: its condition \"" +
                                                           declared->when->text + "\" does not hold"
                                                     : "absent from this trial");
      return to_python(t.value(asked.name));
    }
    if (auto it = extra_.find(asked.name); it != extra_.end()) {
      if (!same_parameter(it->second.first, asked))
        throw caviar::UsageError(at, call + " asks for " + describe(asked) + ", but this trial asked for " +
                                         describe(it->second.first) + " before");
      return to_python(it->second.first.external(it->second.second));
    }
    asked.validate(at);
    const caviar::StudyOptions& options = study_->options();
    double internal;
    {
      py::gil_scoped_release release;
      internal = sample_alone(asked, options.sampler.seed, t.number(), options.direction);
      study_->storage().set_trial_param(t.id(), asked, internal);
    }
    extra_[asked.name] = {asked, internal};
    return to_python(asked.external(internal));
  }

  py::object suggest_float(const std::string& name, double low, double high, std::optional<double> step, bool log) {
    caviar::Parameter p;
    p.name = name;
    p.type = caviar::ParamType::Float;
    p.low = low, p.high = high, p.step = step;
    p.scale = log ? caviar::Scale::Log : caviar::Scale::Linear;
    return suggest(p, "suggest_float");
  }
  py::object suggest_int(const std::string& name, long long low, long long high, long long step, bool log) {
    caviar::Parameter p;
    p.name = name;
    p.type = caviar::ParamType::Int;
    p.low = static_cast<double>(low), p.high = static_cast<double>(high);
    p.step = static_cast<double>(step);
    p.scale = log ? caviar::Scale::Log : caviar::Scale::Linear;
    return suggest(p, "suggest_int");
  }
  py::object suggest_categorical(const std::string& name, const py::sequence& choices) {
    caviar::Parameter p;
    p.name = name;
    p.type = caviar::ParamType::Choice;
    for (std::size_t i = 0; i < choices.size(); ++i)
      p.choices.push_back(to_json(choices[i], "parameters." + name + ".values"));
    return suggest(p, "suggest_categorical");
  }

  // Stores an intermediate value and asks the pruner; as in Optuna, report() does not
  // raise: should_prune() tells, and the objective raises caviar.TrialPruned.
  void report(double value, std::int64_t step) {
    caviar::Trial& t = trial();
    py::gil_scoped_release release;
    try {
      t.report(step, value);
    } catch (const caviar::TrialPruned&) {
      // the verdict stays in should_stop()
    }
  }
  bool should_prune() { return trial().should_stop(); }

  py::dict params() {
    caviar::Trial& t = trial();
    py::dict out = to_python(t.params_json());
    for (const auto& [name, def] : extra_) out[py::str(name)] = to_python(def.first.external(def.second));
    return out;
  }

 private:
  std::string where() const { return "trial " + std::to_string(number_); }
  std::shared_ptr<caviar::Study> study_;
  std::unique_ptr<caviar::Trial> owned_;
  caviar::Trial* trial_ = nullptr;
  int number_ = 0;
  bool borrowed_ = false;
  std::atomic<bool> pruned_{false};
  std::map<std::string, std::pair<caviar::Parameter, double>> extra_;  // undeclared: definition, value
};

// ---- Study ------------------------------------------------------------------------------

double seconds_since_epoch(const std::optional<caviar::Clock::time_point>& t) {
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

// A stored trial as the dict that caviar.FrozenTrial is built from.
py::dict trial_dict(const caviar::TrialRecord& t) {
  py::dict d;
  d["number"] = t.number;
  d["id"] = t.id;
  d["state"] = caviar::to_string(t.state);
  d["value"] = t.value ? py::object(py::float_(*t.value)) : py::object(py::none());
  py::dict params;
  for (const auto& [name, internal] : t.params) params[py::str(name)] = to_python(t.user_value(name));
  d["params"] = params;
  py::dict intermediate;
  for (const auto& [step, value] : t.intermediate) intermediate[py::int_(step)] = value;
  d["intermediate_values"] = intermediate;
  d["user_attrs"] = to_python(t.user_attrs);
  d["system_attrs"] = to_python(t.system_attrs);
  d["datetime_start"] = t.started ? py::object(py::float_(seconds_since_epoch(t.started))) : py::object(py::none());
  d["datetime_complete"] =
      t.finished ? py::object(py::float_(seconds_since_epoch(t.finished))) : py::object(py::none());
  return d;
}

// "complete", "pruned", "fail"/"failed", or an enum member with such a name
// (caviar.TrialState.PRUNED, optuna.trial.TrialState.FAIL).
caviar::TrialState state_of(const py::object& state) {
  std::string name = py::hasattr(state, "name") && !PyUnicode_Check(state.ptr())
                         ? state.attr("name").cast<std::string>()
                         : py::str(state).cast<std::string>();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "fail") name = "failed";
  const caviar::TrialState s = caviar::trial_state_from_string(name);
  if (!caviar::is_finished(s))
    throw caviar::UsageError("tell", "state must be complete, pruned or fail, not " + name);
  return s;
}

class PyStudy {
 public:
  PyStudy(std::optional<std::string> storage, std::optional<std::string> name, std::optional<std::string> direction,
          std::optional<py::dict> space, std::optional<std::string> config, py::object sampler, py::object pruner,
          bool allow_space_change) {
    caviar::StudyOptions options;
    std::string url = "memory";
    if (config) {
      if (space) throw caviar::UsageError("space", "give the space or a config, not both");
      caviar::Config c = caviar::load_config(*config);
      caviar::ConfigOverrides overrides;
      overrides.study = name.value_or("");
      overrides.storage = storage.value_or("");
      caviar::apply_overrides(c, overrides);
      options = c.study;
      url = c.storage;
    } else {
      if (name) options.name = *name;
      if (storage) url = *storage;
      if (space) options.space = space_from_dict(*space);
    }
    if (name) caviar::check_study_name(*name, "name");
    if (direction) options.direction = caviar::direction_from_string(*direction);
    if (!sampler.is_none()) options.sampler = caviar::sampler_options_from_json(options_json(sampler, "sampler"));
    if (!pruner.is_none()) options.pruner = caviar::pruner_options_from_json(options_json(pruner, "pruner"));
    options.allow_space_change = allow_space_change;
    py::gil_scoped_release release;
    url_ = caviar::redacted_url(url);
    auto store = caviar::open_storage(url);
    // A stored study opened without a space or config keeps its own (as `caviar tune` or
    // an earlier Study stored it), and its direction unless one is given.
    if (!config && !space)
      if (auto found = store->find_study(options.name)) {
        if (!direction) options.direction = found->direction;
        auto stored = found->system_attrs.find(caviar::attr::kSpace);
        if (stored != found->system_attrs.end() && stored->is_array() && !stored->empty())
          options.space = caviar::SearchSpace::from_config_json(*stored, "stored space");
      }
    study_ = std::make_shared<caviar::Study>(std::move(store), std::move(options));
  }

  const std::string& name() const { return study_->options().name; }
  std::string direction() const { return caviar::to_string(study_->options().direction); }
  const std::string& storage_url() const { return url_; }
  py::object space() const { return to_python(study_->space().to_config_json()); }
  py::object sampler() const {
    const auto& s = study_->options().sampler;
    json out = s.settings;
    out["name"] = s.name;
    out["seed"] = s.seed;
    return to_python(out);
  }

  std::shared_ptr<PyTrial> ask() {
    std::optional<caviar::Trial> trial;
    {
      py::gil_scoped_release release;
      trial = study_->ask(false);  // no heartbeat: the trial lives in this process
    }
    if (!trial)
      throw caviar::UsageError("study '" + name() + "'",
                               "no trial left to ask: the budget is used or the sampler has nothing left");
    return std::make_shared<PyTrial>(study_, std::make_unique<caviar::Trial>(std::move(*trial)));
  }

  // tell(trial or number, value, state): complete by default; pruned keeps `value` or the
  // last report; fail stores the reason "told failed".
  void tell(const py::object& trial, std::optional<double> value, const py::object& state) {
    std::shared_ptr<PyTrial> handle;
    std::optional<caviar::Trial> loaded;
    caviar::Trial* t = nullptr;
    if (py::isinstance<PyTrial>(trial)) {
      handle = trial.cast<std::shared_ptr<PyTrial>>();
      if (handle->from_optimize())
        throw caviar::UsageError("trial " + std::to_string(handle->number()), "optimize() tells its own trials");
      t = &handle->trial();
    } else {
      const int number = trial.cast<int>();
      auto record = study_->storage().trial(study_->record().id, number);
      if (!record) throw caviar::UsageError("trial " + std::to_string(number), "no such trial in this study");
      loaded.emplace(std::move(*record), &study_->space());
      t = &*loaded;
    }
    caviar::TrialState s = caviar::TrialState::Complete;
    if (!state.is_none()) s = state_of(state);
    if (s == caviar::TrialState::Complete && !value)
      throw caviar::UsageError("trial " + std::to_string(t->number()), "a complete trial needs its value");
    bool told;
    {
      py::gil_scoped_release release;
      if (s == caviar::TrialState::Complete) told = study_->tell(*t, *value);
      else if (s == caviar::TrialState::Pruned) told = study_->tell_pruned(*t, value);
      else told = study_->tell_failed(*t, "told failed", json::object());
    }
    if (handle) handle->finish();
    if (!told)
      throw caviar::UsageError("trial " + std::to_string(t->number()),
                               "is not running: it was told already, or failed as stale");
  }

  void enqueue_trial(const py::dict& params) { study_->enqueue(to_json(params, "params")); }

  // Runs `objective` on `n_jobs` threads until n_trials more have started, the time is up,
  // or the study's budget is used (caviar's Tuner with an in-process objective). As in
  // Optuna, an exception of a type in `catch` fails its trial and the run goes on; any other
  // fails its trial, stops the run, and is raised here. Ctrl-C stops the run: the running
  // trials are stored as interrupted and KeyboardInterrupt is raised.
  void optimize(py::function objective, std::optional<int> n_trials, int n_jobs, std::optional<double> timeout,
                py::tuple catch_types) {
    if (n_jobs == -1) n_jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (n_jobs < 1) throw caviar::UsageError("n_jobs", "must be at least 1, or -1 for one per core");
    if (n_trials && *n_trials < 0) throw caviar::UsageError("n_trials", "must be at least 0");
    py::object pruned_type = py::module_::import("caviar._caviar").attr("TrialPruned");

    caviar::TuneOptions options;
    options.parallel = n_jobs;
    options.max_new_trials = n_trials;
    if (timeout) options.time_limit = std::chrono::milliseconds(static_cast<long long>(*timeout * 1000));
    options.source = caviar::make_sampler_source(false);  // in-process trials take no heartbeat

    std::mutex error_mutex;
    std::optional<py::error_already_set> raised;  // the first exception not in `catch`
    caviar::Tuner* running = nullptr;
    auto study = study_;
    auto call = [&](caviar::Trial& t) -> double {
      py::gil_scoped_acquire gil;
      auto handle = std::make_shared<PyTrial>(study, &t);
      struct Finish {
        PyTrial& trial;
        ~Finish() { trial.finish(); }
      } finish{*handle};
      try {
        py::object result = objective(handle);
        if (PyFloat_Check(result.ptr()) || PyLong_Check(result.ptr()) || py::hasattr(result, "__float__"))
          return py::float_(result).cast<double>();
        throw std::runtime_error("the objective returned " + py::repr(result).cast<std::string>() +
                                 ", not a number");
      } catch (py::error_already_set& e) {
        if (e.matches(pruned_type)) throw caviar::TrialPruned();
        const std::string text = py::str(e.type().attr("__name__")).cast<std::string>() + ": " +
                                 py::str(e.value()).cast<std::string>();
        if (catch_types.size() > 0 && e.matches(catch_types)) throw std::runtime_error(text);
        // Not caught: this trial fails with its reason, the run stops, the caller sees it.
        study->tell_failed(t, "the objective threw: " + text, json::object(), false);
        {
          std::lock_guard lock(error_mutex);
          if (!raised) raised.emplace(std::move(e));
        }
        running->stop();
        throw std::runtime_error(text);
      }
    };
    auto executor = caviar::make_function_executor(call);
    caviar::Tuner tuner(*study_, *executor, std::move(options));
    running = &tuner;

    std::exception_ptr failure;
    std::optional<py::error_already_set> interrupted;
    if (n_jobs == 1) {
      // One at a time on this thread, which keeps its Python thread state between calls:
      // taking the GIL back costs next to nothing. Ctrl-C reaches the objective as
      // KeyboardInterrupt (an exception not caught: raised here once the trial is stored).
      {
        py::gil_scoped_release release;
        try {
          tuner.run();
        } catch (...) {
          failure = std::current_exception();
        }
      }
    } else {
      // The trials run on the Tuner's threads; this one waits, the GIL released, and looks
      // for Ctrl-C (Python runs its signal handlers on the main thread only).
      py::gil_scoped_release release;
      std::mutex done_mutex;
      std::condition_variable done_changed;
      bool done = false;
      std::thread runner([&] {
        try {
          tuner.run();
        } catch (...) {
          failure = std::current_exception();
        }
        std::lock_guard lock(done_mutex);
        done = true;
        done_changed.notify_all();
      });
      std::unique_lock lock(done_mutex);
      while (!done) {
        if (done_changed.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; })) break;
        lock.unlock();
        {
          py::gil_scoped_acquire gil;
          if (PyErr_CheckSignals() != 0 && !interrupted) {
            interrupted.emplace();  // fetches the KeyboardInterrupt
            tuner.stop();
          }
        }
        lock.lock();
      }
      lock.unlock();
      runner.join();
    }
    if (failure) std::rethrow_exception(failure);
    if (interrupted) throw std::move(*interrupted);
    if (raised) throw std::move(*raised);
  }

  py::list trials() const {
    std::vector<caviar::TrialRecord> all;
    {
      py::gil_scoped_release release;
      all = study_->trials();
    }
    py::list out;
    for (const auto& t : all) out.append(trial_dict(t));
    return out;
  }

  py::object best() const {
    std::optional<caviar::TrialRecord> best;
    {
      py::gil_scoped_release release;
      best = study_->best();
    }
    if (!best) return py::none();
    return trial_dict(*best);
  }

  py::dict counts() const {
    caviar::TrialCounts c = study_->counts();
    py::dict d;
    d["running"] = c.running, d["waiting"] = c.waiting, d["complete"] = c.complete;
    d["pruned"] = c.pruned, d["failed"] = c.failed;
    return d;
  }

 private:
  std::shared_ptr<caviar::Study> study_;
  std::string url_;
};

// ---- Sampler (for caviar.optuna) -------------------------------------------------------

// One of caviar's samplers over a space and a history that Python hands over: what
// caviar.optuna's samplers call inside Optuna.
class PySampler {
 public:
  explicit PySampler(const py::object& options)
      : options_(caviar::sampler_options_from_json(options_json(options, "sampler"))),
        sampler_(caviar::make_sampler(options_)) {}

  std::string name() const { return sampler_->name(); }

  // space: {name: definition}; trials: [(number, state, value, {name: internal}, {step:
  // value})]; returns {name: internal} (None: the sampler has nothing left).
  py::object suggest(const py::dict& space_dict, const py::list& trials, int number, const std::string& direction) {
    const caviar::SearchSpace space = space_from_dict(space_dict);
    const auto parameters = space.by_name();
    std::vector<caviar::TrialRecord> history;
    history.reserve(trials.size());
    for (auto item : trials) {
      auto t = item.cast<py::tuple>();
      caviar::TrialRecord r;
      r.number = t[0].cast<int>();
      r.id = r.number + 1;
      r.state = caviar::trial_state_from_string(t[1].cast<std::string>());
      if (!t[2].is_none()) r.value = t[2].cast<double>();
      r.params = t[3].cast<std::map<std::string, double>>();
      for (const auto& [step, value] : t[4].cast<std::map<std::int64_t, double>>()) r.intermediate[step] = value;
      r.parameters = parameters;
      history.push_back(std::move(r));
    }
    const caviar::Direction d = caviar::direction_from_string(direction);
    std::optional<caviar::Params> params;
    {
      py::gil_scoped_release release;
      const caviar::Params none;
      caviar::SampleContext context{space, history, number, d, none};
      params = sampler_->suggest(context);
    }
    if (!params) return py::none();
    py::dict out;
    for (const auto& [name, internal] : *params) out[py::str(name)] = internal;
    return out;
  }

 private:
  caviar::SamplerOptions options_;
  std::unique_ptr<caviar::Sampler> sampler_;
};

// ---- Exceptions -------------------------------------------------------------------------

PyObject* new_exception(py::module_& m, const char* name, PyObject* bases, const char* doc) {
  PyObject* type = PyErr_NewExceptionWithDoc((std::string("caviar.") + name).c_str(), doc, bases, nullptr);
  if (!type) throw py::error_already_set();
  m.attr(name) = py::handle(type);  // the module keeps a reference too
  return type;
}

}  // namespace

PYBIND11_MODULE(_caviar, m) {
  m.doc() = "caviar's C++ library; use the package `caviar`, which wraps it";
  m.attr("__version__") = CAVIAR_VERSION;

  // caviar's error model (include/caviar/error.h) as Python exceptions, with the same text.
  static PyObject* error = new_exception(m, "Error", PyExc_Exception, "Base of the errors caviar raises on purpose.");
  static PyObject* config_error = new_exception(m, "ConfigError", py::make_tuple(py::handle(error), py::handle(PyExc_ValueError)).release().ptr(),
                                                "A configuration or search space that cannot be used.");
  static PyObject* usage_error = new_exception(m, "UsageError", py::make_tuple(py::handle(error), py::handle(PyExc_ValueError)).release().ptr(),
                                               "A request that does not fit the study.");
  static PyObject* storage_error = new_exception(m, "StorageError", py::make_tuple(py::handle(error), py::handle(PyExc_RuntimeError)).release().ptr(),
                                                 "A storage that cannot be opened, read or written.");
  static PyObject* trial_pruned = new_exception(m, "TrialPruned", PyExc_Exception,
                                                "Raise it in an objective to stop a trial that should_prune() judged hopeless.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const caviar::UsageError& e) {
      PyErr_SetString(usage_error, e.what());
    } catch (const caviar::ConfigError& e) {
      PyErr_SetString(config_error, e.what());
    } catch (const caviar::StorageError& e) {
      PyErr_SetString(storage_error, e.what());
    } catch (const caviar::Error& e) {
      PyErr_SetString(error, e.what());
    } catch (const caviar::TrialPruned& e) {
      PyErr_SetString(trial_pruned, e.what());
    }
  });

  py::class_<PyTrial, std::shared_ptr<PyTrial>>(m, "Trial", "A running trial: see caviar.Trial in __init__.pyi.")
      .def_property_readonly("number", &PyTrial::number)
      .def_property_readonly("params", &PyTrial::params)
      .def("suggest_float", &PyTrial::suggest_float, py::arg("name"), py::arg("low"), py::arg("high"), py::kw_only(),
           py::arg("step") = py::none(), py::arg("log") = false)
      .def("suggest_int", &PyTrial::suggest_int, py::arg("name"), py::arg("low"), py::arg("high"),
           py::arg("step") = 1, py::arg("log") = false)
      .def("suggest_categorical", &PyTrial::suggest_categorical, py::arg("name"), py::arg("choices"))
      .def("report", &PyTrial::report, py::arg("value"), py::arg("step"))
      .def("should_prune", &PyTrial::should_prune)
      .def("__repr__", [](const PyTrial& t) { return "<caviar.Trial " + std::to_string(t.number()) + ">"; });

  py::class_<PyStudy>(m, "Study", "A study: see caviar.Study.")
      .def(py::init<std::optional<std::string>, std::optional<std::string>, std::optional<std::string>,
                    std::optional<py::dict>, std::optional<std::string>, py::object, py::object, bool>(),
           py::arg("storage") = py::none(), py::arg("name") = py::none(), py::arg("direction") = py::none(),
           py::arg("space") = py::none(), py::arg("config") = py::none(), py::arg("sampler") = py::none(),
           py::arg("pruner") = py::none(), py::arg("allow_space_change") = false)
      .def_property_readonly("study_name", &PyStudy::name)
      .def_property_readonly("direction_name", &PyStudy::direction)
      .def_property_readonly("storage_url", &PyStudy::storage_url)
      .def_property_readonly("space", &PyStudy::space)
      .def_property_readonly("sampler_options", &PyStudy::sampler)
      .def("ask", &PyStudy::ask)
      .def("tell", &PyStudy::tell, py::arg("trial"), py::arg("value") = py::none(), py::arg("state") = py::none())
      .def("enqueue_trial", &PyStudy::enqueue_trial, py::arg("params"))
      .def("optimize", &PyStudy::optimize, py::arg("func"), py::arg("n_trials") = py::none(), py::arg("n_jobs") = 1,
           py::arg("timeout") = py::none(), py::arg("catch") = py::tuple())
      .def("_trials", &PyStudy::trials)
      .def("_best", &PyStudy::best)
      .def("_counts", &PyStudy::counts);

  py::class_<PySampler>(m, "Sampler", "One of caviar's samplers (make_sampler), for caviar.optuna.")
      .def(py::init<py::object>(), py::arg("options"))
      .def_property_readonly("name", &PySampler::name)
      .def("suggest", &PySampler::suggest, py::arg("space"), py::arg("trials"), py::arg("number"),
           py::arg("direction"));
}
