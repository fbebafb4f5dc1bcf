"""caviar.Study in Optuna's shape: suggest_*, optimize, ask/tell, pruning, errors."""
import math
import threading
import time

import pytest

import caviar

SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "scale": "log"},
    "units": {"type": "int", "low": 16, "high": 512, "scale": "log"},
    "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
    "beta1": {"type": "float", "low": 0.8, "high": 0.99, "when": "optimizer == adam"},
}


def objective(trial):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    units = trial.suggest_int("units", 16, 512, log=True)
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    penalty = 0.0
    if optimizer == "adam":
        penalty = (trial.suggest_float("beta1", 0.8, 0.99) - 0.9) ** 2
    return (math.log10(lr) + 3) ** 2 + abs(units - 128) / 512 + penalty


def test_suggested_values_lie_in_the_declared_space(tmp_path):
    study = caviar.Study(storage=f"sqlite:///{tmp_path}/s.db", name="s", space=SPACE,
                         sampler={"name": "tpe", "seed": 3})
    study.optimize(objective, n_trials=30)
    trials = study.trials
    assert [t.number for t in trials] == list(range(30))
    assert all(t.state == caviar.TrialState.COMPLETE for t in trials)
    for t in trials:
        p = t.params
        assert 1e-5 <= p["lr"] <= 1e-1 and isinstance(p["lr"], float)
        assert 16 <= p["units"] <= 512 and isinstance(p["units"], int)
        assert p["optimizer"] in ("sgd", "adam")
        assert ("beta1" in p) == (p["optimizer"] == "adam")
        assert t.value == pytest.approx(objective_value(p))
    best = min(trials, key=lambda t: t.value)
    assert study.best_trial.number == best.number
    assert study.best_value == best.value
    assert study.best_params == best.params


def objective_value(p):
    penalty = (p["beta1"] - 0.9) ** 2 if p["optimizer"] == "adam" else 0.0
    return (math.log10(p["lr"]) + 3) ** 2 + abs(p["units"] - 128) / 512 + penalty


def test_undeclared_parameters_are_drawn_on_their_own_and_stored(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    study = caviar.Study(storage=url, name="free", space={"x": {"type": "float", "low": 0, "high": 1}})

    def f(trial):
        x = trial.suggest_float("x", 0, 1)
        u = trial.suggest_float("u", 1e-3, 10, log=True)
        k = trial.suggest_int("k", -3, 3)
        c = trial.suggest_categorical("c", ["a", "b", 7])
        assert trial.suggest_float("u", 1e-3, 10, log=True) == u  # asked again: the same value
        assert trial.params == {"x": x, "u": u, "k": k, "c": c}
        return x + u

    study.optimize(f, n_trials=40)
    again = caviar.Study(storage=url, name="free")  # read back from the file
    trials = again.trials
    assert len(trials) == 40
    for t in trials:
        assert set(t.params) == {"x", "u", "k", "c"}
        assert 1e-3 <= t.params["u"] <= 10 and isinstance(t.params["u"], float)
        assert -3 <= t.params["k"] <= 3 and isinstance(t.params["k"], int)
        assert t.params["c"] in ("a", "b", 7)
    us = [t.params["u"] for t in trials]
    assert sum(u < 0.1 for u in us) >= 5 and sum(u > 1 for u in us) >= 5  # log-uniform, not linear
    assert len({t.params["c"] for t in trials}) == 3
    assert len({t.params["k"] for t in trials}) >= 5


def test_asking_with_other_bounds_than_declared_is_an_error():
    study = caviar.Study(space=SPACE)
    trial = study.ask()
    with pytest.raises(caviar.UsageError) as e:
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    assert str(e.value) == ("parameters.lr: suggest_float asks for float [0.0001, 0.1] log, "
                            "but the study declares float [1e-05, 0.1] log")
    assert isinstance(e.value, ValueError) and isinstance(e.value, caviar.Error)
    with pytest.raises(caviar.UsageError, match="parameters.lr: suggest_float asks for float"):
        trial.suggest_float("lr", 1e-5, 1e-1)  # log differs
    with pytest.raises(caviar.UsageError, match="asks for int"):
        trial.suggest_int("lr", 1, 10)
    with pytest.raises(caviar.UsageError, match=r'declares choice \["sgd","adam"\]'):
        trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    if trial.params["optimizer"] == "sgd":
        with pytest.raises(caviar.UsageError, match='absent from this trial: its condition "optimizer == adam"'):
            trial.suggest_float("beta1", 0.8, 0.99)
    study.tell(trial, 1.0)


def test_config_errors_are_the_command_lines(tmp_path, run_cli):
    bad = {"lr": {"type": "float", "low": 1e-5, "high": 1, "sclae": "log"}}
    with pytest.raises(caviar.ConfigError) as e:
        caviar.Study(space=bad)
    assert str(e.value).startswith("parameters.lr.sclae: unknown key")
    (tmp_path / "bad.yaml").write_text(
        "study: s\nobjective: {command: [echo]}\nmetric: loss\n"
        "parameters:\n  lr: {type: float, low: 1e-5, high: 1, sclae: log}\n")
    done = run_cli("tune", "bad.yaml", check=False)
    assert done.returncode == 2 and str(e.value) in done.stderr

    with pytest.raises(caviar.ConfigError) as e:
        caviar.Study(space={"x": {"type": "float", "low": 0, "high": 1}}, sampler={"name": "tpe", "startp": 3})
    (tmp_path / "bad2.yaml").write_text(
        "study: s\nobjective: {command: [echo]}\nmetric: loss\n"
        "parameters:\n  x: {type: float, low: 0, high: 1}\nsampler: {name: tpe, startp: 3}\n")
    done = run_cli("tune", "bad2.yaml", check=False)
    assert str(e.value).startswith("sampler.startp") and str(e.value) in done.stderr

    with pytest.raises(caviar.ConfigError, match="pruner"):
        caviar.Study(space={"x": {"type": "float", "low": 0, "high": 1}}, pruner={"name": "median", "reduction_factor": 3})
    with pytest.raises(caviar.StorageError):
        caviar.Study(storage=f"sqlite:///{tmp_path}/no/such/folder/x.db", space={"x": {"type": "float", "low": 0, "high": 1}})


def test_a_stored_study_with_other_parameters_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    caviar.Study(storage=url, name="s", space={"x": {"type": "float", "low": 0, "high": 1}})
    with pytest.raises(caviar.UsageError, match=r"parameters.x: was float \[0, 1\], now float \[0, 2\]"):
        caviar.Study(storage=url, name="s", space={"x": {"type": "float", "low": 0, "high": 2}})
    caviar.Study(storage=url, name="s", space={"x": {"type": "float", "low": 0, "high": 2}}, allow_space_change=True)


def test_ask_and_tell_in_every_state():
    study = caviar.Study(space={"x": {"type": "float", "low": -1, "high": 1}}, direction="maximize")
    t0 = study.ask()
    x = t0.suggest_float("x", -1, 1)
    study.tell(t0, x)
    t1 = study.ask()
    t1.report(0.5, 1)
    t1.report(0.25, 2)
    study.tell(t1, state="pruned")
    t2 = study.ask()
    study.tell(t2, state=caviar.TrialState.FAIL)
    t3 = study.ask()
    study.tell(t3.number, 0.75)  # by number, as Optuna allows
    with pytest.raises(caviar.UsageError, match="trial 0: is not running"):
        study.tell(0, 1.0)
    with pytest.raises(caviar.UsageError, match="trial 1: the trial has finished"):
        t1.suggest_float("x", -1, 1)
    t4 = study.ask()
    study.tell(t4, float("nan"))  # caviar's rule: stored failed
    states = [t.state for t in study.trials]
    assert states == [caviar.TrialState.COMPLETE, caviar.TrialState.PRUNED, caviar.TrialState.FAIL,
                      caviar.TrialState.COMPLETE, caviar.TrialState.FAIL]
    pruned = study.trials[1]
    assert pruned.intermediate_values == {1: 0.5, 2: 0.25} and pruned.value == 0.25
    assert study.trials[2].system_attrs["caviar:reason"] == "told failed"
    assert study.best_trial.number in (0, 3) and study.best_value == max(x, 0.75)


def test_pruned_trials_are_stored_pruned(tmp_path):
    study = caviar.Study(storage=f"sqlite:///{tmp_path}/p.db", name="p",
                         space={"x": {"type": "float", "low": 0, "high": 1}},
                         sampler={"name": "random", "seed": 1}, pruner={"name": "median", "min_trials": 3})
    seen_prune = []

    def f(trial):
        x = trial.suggest_float("x", 0, 1)
        for step in range(1, 6):
            trial.report(x + 1.0 / step, step)
            if trial.should_prune():
                seen_prune.append(trial.number)
                raise caviar.TrialPruned()
        return x

    study.optimize(f, n_trials=25)
    trials = study.trials
    pruned = [t for t in trials if t.state == caviar.TrialState.PRUNED]
    assert pruned and [t.number for t in pruned] == seen_prune
    for t in pruned:
        assert t.value == t.intermediate_values[t.last_step] and t.last_step < 5
    complete = [t for t in trials if t.state == caviar.TrialState.COMPLETE]
    assert all(t.intermediate_values.keys() == {1, 2, 3, 4, 5} for t in complete)


def test_exceptions_fail_their_trial_and_those_not_caught_are_raised():
    study = caviar.Study(space={"x": {"type": "float", "low": 0, "high": 1}})

    def f(trial):
        if trial.number % 2:
            raise ValueError(f"odd {trial.number}")
        return trial.suggest_float("x", 0, 1)

    study.optimize(f, n_trials=6, catch=(ValueError,))
    trials = study.trials
    assert [t.state for t in trials] == [caviar.TrialState.COMPLETE, caviar.TrialState.FAIL] * 3
    assert trials[1].system_attrs["caviar:reason"] == "the objective threw: ValueError: odd 1"

    with pytest.raises(ValueError, match="odd 7"):
        study.optimize(f, n_trials=10)  # not caught: raised, and the run stops
    trials = study.trials
    assert len(trials) == 8 and trials[7].state == caviar.TrialState.FAIL
    assert trials[7].system_attrs["caviar:reason"] == "the objective threw: ValueError: odd 7"
    study.optimize(lambda t: "text", n_trials=1)  # not a number: failed, with why
    assert "not a number" in study.trials[-1].system_attrs["caviar:reason"]


def test_threads_run_objectives_side_by_side_and_numbers_stay_unique(tmp_path):
    study = caviar.Study(storage=f"sqlite:///{tmp_path}/t.db", name="t",
                         space={"x": {"type": "float", "low": 0, "high": 1}})
    active, most = [0], [0]
    lock = threading.Lock()

    def f(trial):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return trial.suggest_float("x", 0, 1)

    study.optimize(f, n_trials=16, n_jobs=4)
    assert sorted(t.number for t in study.trials) == list(range(16))
    assert most[0] >= 3


def test_a_config_file_gives_the_study(tmp_path):
    (tmp_path / "study.yaml").write_text(
        "study: from-config\nstorage: sqlite:///c.db\ndirection: maximize\n"
        "objective: {command: [echo]}\nmetric: acc\n"
        "parameters:\n  a: {type: int, low: 1, high: 4}\n  b: {type: choice, values: [x, y]}\n"
        "sampler: {name: sobol, seed: 2}\nbudget: {trials: 5}\n")
    study = caviar.Study(config=str(tmp_path / "study.yaml"))
    assert study.study_name == "from-config" and study.direction == "maximize"
    assert study.sampler_options["name"] == "sobol"
    study.optimize(lambda t: t.suggest_int("a", 1, 4) + (t.suggest_categorical("b", ["x", "y"]) == "y"))
    assert len(study.trials) == 5  # the budget
    with pytest.raises(caviar.UsageError, match="no trial left"):
        study.ask()
    assert (tmp_path / "c.db").exists()  # relative to the config's folder


def test_trials_dataframe():
    pd = pytest.importorskip("pandas")
    study = caviar.Study(space={"x": {"type": "float", "low": 0, "high": 1}})
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    df = study.trials_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 5
    assert list(df["number"]) == [0, 1, 2, 3, 4]
    assert (df["value"] == df["params_x"]).all() and set(df["state"]) == {"COMPLETE"}


CTRL_C_SCRIPT = """
import sys, time
import caviar
study = caviar.Study(storage=sys.argv[1], name="c", space={"x": {"type": "float", "low": 0, "high": 1}})
def f(trial):
    time.sleep(0.1)
    return trial.suggest_float("x", 0, 1)
print("started", flush=True)
study.optimize(f, n_trials=1000, n_jobs=int(sys.argv[2]))
"""


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_stops_optimize_with_keyboard_interrupt_and_nothing_left_running(tmp_path, n_jobs):
    import os
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/c.db"
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT, url, str(n_jobs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout.readline() == "started\n"
    time.sleep(0.8)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    trials = caviar.Study(storage=url, name="c").trials
    assert 3 <= len(trials) < 100
    assert not [t for t in trials if t.state == caviar.TrialState.RUNNING]
    if n_jobs == 1:  # the objective itself was interrupted: its trial failed, with why
        assert trials[-1].state == caviar.TrialState.FAIL
        assert trials[-1].system_attrs["caviar:reason"].startswith("the objective threw: KeyboardInterrupt")
