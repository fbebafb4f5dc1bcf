// The Storage interface over Optuna's relational schema, written once for the SQLite and
// the PostgreSQL store. What a database driver supplies is small: one statement at a time
// (`?` placeholders, rows back), a write and a read transaction that run a function and
// run it again when the database asks for it, and the clock of the heartbeats. Everything
// that a state change does (start a trial, finish it, fail stale ones, count the budget,
// load trials) is here, as the same statements on both databases.
#pragma once

#include <cassert>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "caviar/storage.h"

namespace caviar::detail {

// A cell of a row, or a statement's parameter: NULL, an integer, a real or text. A
// non-finite real is passed as NULL (Optuna's tables keep those as NULL plus a type).
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

struct SqlArg {
  SqlValue value;
  SqlArg(std::nullptr_t) {}
  SqlArg(std::int64_t v) : value(v) {}
  SqlArg(int v) : value(static_cast<std::int64_t>(v)) {}
  SqlArg(double v);
  SqlArg(std::optional<double> v) : SqlArg(v ? SqlArg(*v) : SqlArg(nullptr)) {}
  SqlArg(std::string v) : value(std::move(v)) {}
  SqlArg(const char* v) : value(std::string(v)) {}
};

// The rows a statement returned. A driver that gets text back (PostgreSQL) stores text;
// the accessors convert.
class SqlRows {
 public:
  std::vector<std::vector<SqlValue>> rows;

  int size() const { return static_cast<int>(rows.size()); }
  bool is_null(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  std::optional<double> real(int row, int col) const;
  std::string text(int row, int col) const;
};

class SqlStorage : public Storage {
 public:
  StudyRecord open_study(const std::string& name, Direction direction) override;
  std::optional<StudyRecord> find_study(const std::string& name) override;
  std::vector<StudyRecord> studies() override;
  void set_study_attr(std::int64_t study_id, const std::string& key, const json& value) override;
  std::optional<TrialRecord> start_trial(const StartRequest& request) override;
  TrialRecord enqueue_trial(std::int64_t study_id, const json& fixed_params,
                            const json& system_attrs) override;
  void report(std::int64_t trial_id, std::int64_t step, double value) override;
  void set_trial_param(std::int64_t trial_id, const Parameter& parameter, double internal) override;
  void set_trial_attr(std::int64_t trial_id, const std::string& key, const json& value) override;
  void heartbeat(const std::vector<std::int64_t>& trial_ids) override;
  bool finish_trial(std::int64_t trial_id, TrialState state, std::optional<double> value,
                    const json& system_attrs, const std::optional<Requeue>& requeue) override;
  std::vector<TrialRecord> fail_stale(std::int64_t study_id, std::chrono::milliseconds grace) override;
  std::vector<TrialRecord> rerun_failed(std::int64_t study_id, const SearchSpace& space) override;
  void delete_study(std::int64_t study_id) override;
  std::vector<TrialRecord> trials(std::int64_t study_id) override;
  std::vector<TrialRecord> trials_after(std::int64_t study_id, std::int64_t after_id, int limit,
                                        const std::vector<std::int64_t>& again) override;
  std::optional<TrialRecord> trial(std::int64_t study_id, int number) override;
  TrialCounts counts(std::int64_t study_id) override;

 protected:
  // ---- What a driver supplies ----

  // One statement, parameters at `?`, inside a transaction; throws the driver's own
  // "run the transaction again" exception (busy, connection lost) or StorageError.
  virtual SqlRows query(const std::string& sql, std::initializer_list<SqlArg> args = {}) = 0;
  // Runs `fn` in a write (or read-only) transaction and commits; runs it again, whole, when
  // the database asks for that. After a rollback the driver calls rolled_back().
  virtual void in_write(const std::function<void()>& fn) = 0;
  virtual void in_read(const std::function<void()>& fn) = 0;
  // Records a heartbeat of a running trial (none if it finished meanwhile), and how long
  // each running trial of the study has been silent, on the driver's clock: the client's
  // (SQLite, UTC as Optuna writes them) or the server's (PostgreSQL).
  virtual void beat_locked(std::int64_t trial_id, Clock::time_point now) = 0;
  virtual std::vector<std::pair<std::int64_t, Clock::duration>> silences_locked(std::int64_t study_id,
                                                                                Clock::time_point now) = 0;

  // Finished trials read from the database are kept; a transaction that rolls back may
  // have read what never was.
  void rolled_back() { cache_.clear(); }

  template <class F>
  std::invoke_result_t<F&> write(F&& fn) {
    std::optional<std::invoke_result_t<F&>> out;
    in_write([&] { out.emplace(fn()); });
    assert(out);  // a driver returns only after fn has run to the end and been committed
    return std::move(*out);
  }
  template <class F>
  std::invoke_result_t<F&> read(F&& fn) {
    std::optional<std::invoke_result_t<F&>> out;
    in_read([&] { out.emplace(fn()); });
    assert(out);
    return std::move(*out);
  }

 private:
  std::unordered_map<std::int64_t, TrialRecord> cache_;  // finished trials only

  std::optional<StudyRecord> find_study_locked(const std::string& name);
  json load_attrs(const char* sql, std::int64_t id);
  void set_attr_locked(std::int64_t trial_id, const std::string& key, const json& value);
  TrialRecord enqueue_locked(std::int64_t study_id, const json& fixed_params, const json& system_attrs);
  int count_locked(std::int64_t study_id);
  int counted_locked(std::int64_t study_id);
  std::vector<TrialRecord> fail_stale_locked(std::int64_t study_id, std::chrono::milliseconds grace,
                                             Clock::time_point now);
  TrialRecord load_trial(std::int64_t id);
  std::vector<TrialRecord> load_trials(std::int64_t study_id);
  std::vector<TrialRecord> load_trials_where(const std::string& where);
};

}  // namespace caviar::detail
