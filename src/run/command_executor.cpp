// The command executor: runs one trial as a subprocess, following the trial protocol
// (docs/protocol.md), as carefully as a process supervisor would.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "base/bounded_text.h"
#include "base/format.h"
#include "base/process_identity.h"
#include "run/process_reaper.h"
#include "run/process_sweep.h"
#include "run/trial_output.h"

extern char** environ;

namespace caviar {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

std::string env_name(const std::string& param) {
  std::string out = "CAVIAR_PARAM_";
  for (char c : param) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

class CommandExecutor final : public Executor {
 public:
  CommandExecutor(CommandObjective o, const SearchSpace& space) : o_(std::move(o)), space_(space) {
    std::string program = o_.argv[0];
    if (program.find('/') != std::string::npos && program[0] != '/' && !o_.workdir.empty())
      program = (o_.workdir / program).string();
    if (find_program(program).empty())
      throw ConfigError("objective.command[0]",
                        fmt::format("program '{}' not found{}", o_.argv[0],
                                    o_.argv[0].find('/') == std::string::npos ? " on PATH" : ""));
  }

  TrialOutcome run(Trial& trial, const TrialContext& ctx) override {
    std::error_code ec;
    fs::create_directories(ctx.trial_dir, ec);
    if (ec) return failure(fmt::format("cannot create trial folder {}: {}", ctx.trial_dir.string(), ec.message()));
    fs::path params_file = ctx.trial_dir / "params.json";
    {
      std::ofstream out(params_file);
      out << trial.params_json().dump(2) << "\n";
      if (!out) return failure("cannot write " + params_file.string());
    }
    std::vector<std::string> argv = expand(trial, ctx);
    std::vector<std::string> env = environment(trial, ctx, params_file);
    // The trial's tag, which its processes keep wherever they go (run/process_sweep.h).
    static std::atomic<std::uint64_t> trials_started{0};
    const auto& me = detail::this_process();
    const std::string tag = fmt::format("{}={}", detail::trial_tag_variable(me.pid, me.start), ++trials_started);
    env.push_back(tag);

    std::ofstream stdout_log(ctx.trial_dir / "stdout.log"), stderr_log(ctx.trial_dir / "stderr.log");
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) return failure(std::string("pipe: ") + std::strerror(errno));
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
      close(out_pipe[0]), close(out_pipe[1]);
      return failure(std::string("pipe: ") + std::strerror(errno));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    if (!o_.workdir.empty()) posix_spawn_file_actions_addchdir_np(&actions, o_.workdir.c_str());
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // no other trial's logs, no database
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);  // its own process group
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);

    pid_t pid = 0;
    detail::reaper_start();
    int rc = posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
      close(out_pipe[0]), close(err_pipe[0]);
      return failure(fmt::format("cannot start '{}': {}", argv[0], std::strerror(rc)));
    }
    detail::reaper_watch(pid);

    TrialOutcome outcome = supervise(pid, tag, out_pipe[0], err_pipe[0], stdout_log, stderr_log, ctx);
    close(out_pipe[0]);
    close(err_pipe[0]);
    // The leader is still an unreaped zombie (supervise waits with WNOWAIT), so its pid and
    // group id cannot have been reused: this ends what the trial left behind, and nothing else.
    // Then the processes that left the group (setsid, a double fork), by their tag.
    kill(-pid, SIGKILL);
    detail::kill_tagged(tag.c_str(), tag.size(), false);
    detail::reaper_forget(pid);
    waitpid(pid, nullptr, 0);
    outcome.attrs[attr::kTrialDir] = ctx.trial_dir.string();
    outcome.reason = detail::clip_text(outcome.reason);
    return outcome;
  }

 private:
  CommandObjective o_;
  const SearchSpace& space_;

  static TrialOutcome failure(std::string reason) {
    TrialOutcome out;
    out.state = TrialState::Failed;
    out.reason = std::move(reason);
    return out;
  }

  // argv with {placeholders} filled. An argument naming an absent (conditional) parameter
  // is dropped, and so is a flag just before it ("--beta1", "{beta1}").
  std::vector<std::string> expand(const Trial& trial, const TrialContext& ctx) const {
    static const std::regex placeholder(R"(\{([A-Za-z_][A-Za-z0-9_.-]*)\})");
    std::vector<std::string> out;
    bool previous_was_flag = false;
    for (const auto& arg : o_.argv) {
      std::string result;
      bool absent = false, had_placeholder = false;
      std::size_t last = 0;
      for (auto it = std::sregex_iterator(arg.begin(), arg.end(), placeholder);
           it != std::sregex_iterator(); ++it) {
        had_placeholder = true;
        result += arg.substr(last, it->position() - last);
        last = it->position() + it->length();
        std::string name = (*it)[1];
        if (name == "trial") result += std::to_string(trial.number());
        else if (name == "study") result += ctx.study;
        else if (name == "trial_dir") result += ctx.trial_dir.string();
        else if (trial.has(name)) result += space_.at(name).text(trial.params().at(name));
        else absent = true;
      }
      result += arg.substr(last);
      if (absent) {
        if (previous_was_flag) out.pop_back();
        previous_was_flag = false;
        continue;
      }
      out.push_back(result);
      previous_was_flag = !had_placeholder && arg.size() > 1 && arg[0] == '-';
    }
    return out;
  }

  std::vector<std::string> environment(const Trial& trial, const TrialContext& ctx,
                                       const fs::path& params_file) const {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e; ++e) {
      std::string entry = *e;
      auto eq = entry.find('=');
      if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (auto it = vars.begin(); it != vars.end();)  // no stale values from a parent trial
      it = it->first.rfind("CAVIAR_PARAM_", 0) == 0 ? vars.erase(it) : std::next(it);
    for (const char* name : {"CAVIAR_CHECKPOINT_DIR", "CAVIAR_RESTORE_FROM", "CAVIAR_START_AT", "CAVIAR_STOP_AT",
                             "CAVIAR_GPU"})
      vars.erase(name);
    for (const auto& [k, v] : o_.env) vars[k] = v;
    for (const auto& [name, value] : trial.params()) vars[env_name(name)] = space_.at(name).text(value);
    vars["CAVIAR_STUDY"] = ctx.study;
    vars["CAVIAR_TRIAL"] = std::to_string(trial.number());
    vars["CAVIAR_TRIAL_DIR"] = fs::absolute(ctx.trial_dir).string();
    vars["CAVIAR_PARAMS_FILE"] = fs::absolute(params_file).string();
    vars["CAVIAR_METRIC"] = o_.metric;
    if (!ctx.checkpoint_dir.empty()) vars["CAVIAR_CHECKPOINT_DIR"] = fs::absolute(ctx.checkpoint_dir).string();
    if (!ctx.restore_from.empty()) vars["CAVIAR_RESTORE_FROM"] = fs::absolute(ctx.restore_from).string();
    if (!ctx.gpus.empty()) {  // its own devices, whatever the environment or objective.env said
      std::string list;
      for (const auto& id : ctx.gpus) list += (list.empty() ? "" : ",") + id;
      vars["CUDA_VISIBLE_DEVICES"] = vars["CAVIAR_GPU"] = list;
    }
    if (ctx.stop_at) {
      vars["CAVIAR_START_AT"] = std::to_string(ctx.start_at);
      vars["CAVIAR_STOP_AT"] = std::to_string(*ctx.stop_at);
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
  }

  TrialOutcome supervise(pid_t pid, const std::string& tag, int out_fd, int err_fd, std::ofstream& stdout_log,
                         std::ofstream& stderr_log, const TrialContext& ctx) {
    auto start = SteadyClock::now();
    detail::StderrTail stderr_tail;
    std::optional<double> last_value;
    std::optional<std::int64_t> last_step;
    std::int64_t auto_step = 0;
    std::string protocol_error;
    bool out_open = true, err_open = true, exited = false;
    int status = 0;
    enum class Stop { None, Timeout, Requested, Protocol } stop = Stop::None;
    std::optional<SteadyClock::time_point> kill_at;
    std::optional<SteadyClock::time_point> exited_at;

    // Every name=number, by step (attr::kMetrics), for at most kMetricSteps steps.
    constexpr std::size_t kMetricSteps = 10000;
    json metrics = json::object();
    auto add_metrics = [&](std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
      const std::string key = std::to_string(step);
      if (!metrics.contains(key) && metrics.size() >= kMetricSteps) return;
      json& at = metrics[key];
      if (!at.is_object()) at = json::object();
      for (const auto& [name, value] : values)
        at[name] = std::isfinite(value) ? json(value) : json(detail::shortest(value));
    };
    // stdout and stderr are read as they come, each byte looked at once: the logs get
    // every byte, caviar keeps only the tokens and the stderr tail it needs, bounded.
    detail::MetricScanner scanner(o_.metric, o_.step_key,
                                  [&](int line_number, const detail::MetricLine& m, const std::string& error) {
      if (stop == Stop::Protocol) return;
      if (!error.empty()) {
        protocol_error = fmt::format("stdout line {}: {}", line_number, error);
        stop = Stop::Protocol;
        return;
      }
      if (!m.metric) {
        // Other values belong to the line's step, or to the last report's.
        if (!m.values.empty()) add_metrics(m.step ? std::llround(*m.step) : auto_step, m.values);
        return;
      }
      std::int64_t step = m.step ? static_cast<std::int64_t>(std::llround(*m.step)) : ++auto_step;
      if (m.step) auto_step = step;
      add_metrics(step, m.values);
      last_value = *m.metric;
      last_step = step;
      if (ctx.report) ctx.report(step, *m.metric);
    });
    auto drain = [&](int fd, std::ofstream& log, bool& open, auto& sink, bool& ends_in_newline) {
      static thread_local char chunk[65536];
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
      if (n <= 0) {
        open = false;
        if (!ends_in_newline) log << '\n';
        log.flush();
        sink.finish();
        return;
      }
      log.write(chunk, n);
      log.flush();
      ends_in_newline = chunk[n - 1] == '\n';
      sink.feed(chunk, static_cast<std::size_t>(n));
    };
    bool out_newline = true, err_newline = true;

    while (true) {
      auto now = SteadyClock::now();
      if (stop == Stop::None) {
        if (o_.timeout.count() > 0 && now - start > o_.timeout) stop = Stop::Timeout;
        else if (ctx.should_stop && ctx.should_stop()) stop = Stop::Requested;
      }
      // Its group, and its processes that left the group: SIGTERM, SIGKILL after the grace.
      auto signal_all = [&](int sig) {
        kill(-pid, sig);
        detail::signal_tagged(tag.c_str(), tag.size(), false, sig);
      };
      if (stop != Stop::None && !exited && !kill_at) {
        signal_all(SIGTERM);
        kill_at = now + o_.grace;
      }
      if (kill_at && now >= *kill_at && !exited) signal_all(SIGKILL);
      if (!exited) {
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid) {
          exited = true, exited_at = now;
          status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0)
                                              : W_EXITCODE(0, info.si_status);
        }
      }
      // The main process is gone; give leftovers holding the pipes a moment, then end them.
      if (exited && (out_open || err_open) && now - *exited_at > std::chrono::milliseconds(500)) {
        signal_all(SIGKILL);
      }
      if (exited && !out_open && !err_open) break;
      pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
      int ready = poll(fds, 2, 50);
      if (ready > 0) {
        if (fds[0].revents) drain(out_fd, stdout_log, out_open, scanner, out_newline);
        if (fds[1].revents) drain(err_fd, stderr_log, err_open, stderr_tail, err_newline);
      }
      if (exited && now - *exited_at > std::chrono::seconds(5)) break;  // pipes held forever
    }

    TrialOutcome out;
    out.value = last_value;
    if (!metrics.empty()) out.attrs[attr::kMetrics] = std::move(metrics);
    const std::string tail = stderr_tail.text();
    if (!tail.empty()) out.attrs[attr::kStderrTail] = tail;
    auto with_tail = [&](std::string reason) {
      if (!tail.empty()) reason += "; last lines of stderr:\n" + tail;
      return reason;
    };
    auto elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
    out.attrs[attr::kSeconds] = elapsed;
    if (WIFEXITED(status)) out.attrs[attr::kExitCode] = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out.attrs[attr::kSignal] = signal_name(WTERMSIG(status));

    switch (stop) {
      case Stop::Timeout:
        out.state = TrialState::Failed;
        out.reason = with_tail(fmt::format("timeout: still running after {} s; its process group was ended",
                                           detail::shortest(o_.timeout.count() / 1000.0)));
        return out;
      case Stop::Requested:
        out.state = TrialState::Pruned;  // the Tuner turns this into interrupted if stopping
        out.reason = "stopped";
        return out;
      case Stop::Protocol:
        out.state = TrialState::Failed;
        out.reason = "malformed metric line: " + protocol_error;
        return out;
      case Stop::None: break;
    }
    if (WIFSIGNALED(status)) {
      out.state = TrialState::Failed;
      out.reason = with_tail(fmt::format("killed by {}", signal_name(WTERMSIG(status))));
      return out;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      out.state = TrialState::Failed;
      out.reason = with_tail(fmt::format("exit code {}", WEXITSTATUS(status)));
      return out;
    }
    if (!last_value) {
      out.state = TrialState::Failed;
      const auto& keys = scanner.keys_seen();
      std::string printed = "no name=value token";
      if (!keys.empty()) {
        printed = "";
        for (const auto& k : keys) printed += (printed.empty() ? "" : ", ") + k;
        if (scanner.more_keys()) printed += ", ...";
      }
      out.reason = with_tail(fmt::format("the metric '{}' was never printed on stdout; it printed {} "
                                         "(print a line such as '{}=0.123', or set `metric:` to one of them)",
                                         o_.metric, printed, o_.metric));
      return out;
    }
    if (!std::isfinite(*last_value)) {
      out.state = TrialState::Failed;
      out.reason = fmt::format("the metric '{}' was {} at step {}", o_.metric,
                               detail::shortest(*last_value), last_step.value_or(0));
      out.value.reset();
      return out;
    }
    out.state = TrialState::Complete;
    return out;
  }
};

}  // namespace

std::string find_program(const std::string& name) {
  auto executable = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return executable(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (executable(candidate)) return candidate;
    start = colon + 1;
  }
  return "";
}

std::unique_ptr<Executor> make_command_executor(CommandObjective objective, const SearchSpace& space) {
  return std::make_unique<CommandExecutor>(std::move(objective), space);
}

}  // namespace caviar
