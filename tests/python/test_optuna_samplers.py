"""caviar's samplers inside Optuna 3.1 (caviar.optuna): in-memory and SQLite studies, every
trial state in the history, steps, logs, choices and conditional parameters."""
import json
import math

import pytest

optuna = pytest.importorskip("optuna")
from caviar.optuna import AutoSampler, CaviarSampler, CmaEsSampler, GPSampler, TPESampler  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
SAMPLERS = [AutoSampler, GPSampler, TPESampler, CmaEsSampler]


def mixed(trial):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.05)
    layers = trial.suggest_int("layers", 1, 7, step=2)
    units = trial.suggest_int("units", 8, 256, log=True)
    act = trial.suggest_categorical("act", ["relu", "tanh", 3])
    return (math.log10(lr) + 3) ** 2 + (dropout - 0.2) ** 2 + abs(layers - 3) + abs(math.log2(units) - 6) + (act != "relu")


def check_mixed(trial):
    p = trial.params
    assert 1e-5 <= p["lr"] <= 1e-1
    assert 0 <= p["dropout"] <= 0.5 and abs(p["dropout"] / 0.05 - round(p["dropout"] / 0.05)) < 1e-9
    assert p["layers"] in (1, 3, 5, 7) and 8 <= p["units"] <= 256
    assert p["act"] in ("relu", "tanh", 3)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_in_memory_stays_in_the_space_and_is_seeded(sampler):
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=sampler(seed=4))
        study.optimize(mixed, n_trials=18)
        for t in study.trials:
            assert t.state == optuna.trial.TrialState.COMPLETE
            check_mixed(t)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]  # the same seed, the same trials
    other = optuna.create_study(sampler=sampler(seed=5))
    other.optimize(mixed, n_trials=3)
    assert [t.params for t in other.trials] != runs[0][:3]


def test_the_sampler_beats_random_on_a_smooth_problem():
    def f(trial):
        return sum((trial.suggest_float(f"x{i}", -5, 5) - 1) ** 2 for i in range(3))

    best = {}
    for name, sampler in [("caviar", AutoSampler(seed=0)), ("random", optuna.samplers.RandomSampler(seed=0))]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(f, n_trials=30)
        best[name] = study.best_value
    assert best["caviar"] < 0.5 < best["random"], best


def test_sqlite_study_with_pruned_failed_and_running_trials(tmp_path, run_cli):
    url = f"sqlite:///{tmp_path}/optuna.db"
    study = optuna.create_study(storage=url, study_name="o", sampler=TPESampler(seed=2, startup=5),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))

    def f(trial):
        x = trial.suggest_float("x", -2, 2)
        if trial.number % 7 == 6:
            raise ValueError("a failure")
        for step in range(1, 6):
            trial.report((x - 0.5) ** 2 + 1 / step, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return (x - 0.5) ** 2

    study.optimize(f, n_trials=30, catch=(ValueError,))
    running = study.ask()  # left running: the next trials see it in the history
    running.suggest_float("x", -2, 2)
    study.sampler = GPSampler(seed=3)  # another caviar sampler continues the stored study
    study.optimize(f, n_trials=12, catch=(ValueError,), n_jobs=2)
    states = [t.state for t in study.trials]
    S = optuna.trial.TrialState
    assert states.count(S.PRUNED) >= 3 and states.count(S.FAIL) >= 4 and states.count(S.RUNNING) == 1
    for t in study.trials:
        if "x" in t.params:
            assert -2 <= t.params["x"] <= 2
    assert study.best_value < 0.05
    # caviar's command line reads the study that Optuna wrote with caviar's samplers.
    seen = json.loads(run_cli("trials", "--storage", url, "--study", "o", "--format", "json").stdout)
    assert len(seen) == len(study.trials)
    assert [t["state"] for t in seen].count("pruned") == states.count(S.PRUNED)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_conditional_parameters_never_crash(sampler, tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/c.db", sampler=sampler(seed=1))

    def f(trial):
        kind = trial.suggest_categorical("kind", ["svm", "forest", "none"])
        if kind == "svm":
            c = trial.suggest_float("svm_c", 1e-3, 1e3, log=True)
            return abs(math.log10(c))
        if kind == "forest":
            depth = trial.suggest_int("depth", 2, 32, log=True)
            if depth > 8:
                trial.suggest_categorical("criterion", ["gini", "entropy"])
            return abs(depth - 6) / 6
        return 2.0

    study.optimize(f, n_trials=24)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        p = t.params
        assert ("svm_c" in p) == (p["kind"] == "svm") and ("depth" in p) == (p["kind"] == "forest")
        if "svm_c" in p:
            assert 1e-3 <= p["svm_c"] <= 1e3
        if "depth" in p:
            assert 2 <= p["depth"] <= 32
    assert len({t.params["kind"] for t in study.trials}) == 3


def test_the_space_changes_between_trials_and_a_bad_setting_is_refused():
    study = optuna.create_study(sampler=CaviarSampler("tpe", seed=0))
    study.optimize(lambda t: t.suggest_float("a", 0, 1), n_trials=6)
    study.optimize(lambda t: t.suggest_float("a", 0, 1) + t.suggest_int("b", 0, 3), n_trials=6)
    study.optimize(lambda t: t.suggest_float("a", 0, 2), n_trials=4)  # a's range changed
    assert len(study.trials) == 16
    assert all(0 <= t.params["a"] <= 2 for t in study.trials)
    import caviar
    with pytest.raises(caviar.ConfigError, match="sampler.startp"):
        TPESampler(startp=3)
