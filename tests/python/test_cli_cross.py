"""One store, two tools: a study started in Python is continued by `caviar tune` and drawn by
`caviar report`, and one started by `caviar tune` is continued in Python. Real SQLite files,
real caviar processes."""
import itertools
import json
import math
import os
import sys

import pytest

import caviar

SPACE = {
    "x": {"type": "float", "low": 0, "high": 1},
    "n": {"type": "int", "low": 1, "high": 5},
    "kind": {"type": "choice", "values": ["a", "b"]},
}

# The config of the same study for the command line: its trial prints loss per epoch.
CONFIG = """study: cross
storage: sqlite:///cross.db
metric: loss
objective:
  command: [{python}, trial.py, "{{x}}", "{{n}}"]
parameters:
  x: {{type: float, low: 0, high: 1}}
  n: {{type: int, low: 1, high: 5}}
  kind: {{type: choice, values: [a, b]}}
sampler: {{name: tpe, seed: 1}}
"""


def python_objective(trial):
    x = trial.suggest_float("x", 0, 1)
    n = trial.suggest_int("n", 1, 5)
    trial.suggest_categorical("kind", ["a", "b"])
    for e in (1, 2, 3):
        trial.report((x - 0.3) ** 2 + n + 1 / e, e)
    return (x - 0.3) ** 2 + n + 1 / 3


TRIAL = """import sys
x, n = float(sys.argv[1]), int(sys.argv[2])
for e in (1, 2, 3):
    print(f"epoch={e} loss={(x - 0.3) ** 2 + n + 1 / e!r}")
"""


def write_config(tmp_path):
    (tmp_path / "cross.yaml").write_text(CONFIG.format(python=sys.executable))
    (tmp_path / "trial.py").write_text(TRIAL)


def cli_trials(run_cli):
    return json.loads(run_cli("trials", "cross.yaml", "--format", "json").stdout)


def test_python_study_is_continued_by_tune_and_drawn_by_report(tmp_path, run_cli):
    write_config(tmp_path)
    study = caviar.Study(storage=f"sqlite:///{tmp_path}/cross.db", name="cross", space=SPACE,
                         sampler={"name": "tpe", "seed": 1})
    study.optimize(python_objective, n_trials=4)
    pruned = study.ask()
    pruned.report(9.0, 1)
    study.tell(pruned, state="pruned")

    seen = cli_trials(run_cli)
    assert [t["number"] for t in seen] == [0, 1, 2, 3, 4]
    assert [t["state"] for t in seen] == ["complete"] * 4 + ["pruned"]
    for mine, theirs in zip(study.trials, seen):
        assert theirs["params"] == mine.params
        if mine.state == caviar.TrialState.COMPLETE:
            assert math.isclose(theirs["value"], mine.value)

    run_cli("tune", "cross.yaml", "--trials", "8", "-q")  # the budget: 8 in all, so 3 more
    trials = study.trials  # the same Study object reads what tune added
    assert [t.number for t in trials] == list(range(8))
    assert all(t.state == caviar.TrialState.COMPLETE for t in trials[5:])
    assert all(t.intermediate_values.keys() == {1, 2, 3} for t in trials[5:])
    for t in trials[5:]:
        assert 0 <= t.params["x"] <= 1 and t.params["n"] in range(1, 6) and t.params["kind"] in ("a", "b")
        assert math.isclose(t.value, (t.params["x"] - 0.3) ** 2 + t.params["n"] + 1 / 3, rel_tol=1e-6)

    run_cli("report", "cross.yaml", "--out", "report.html")
    html = (tmp_path / "report.html").read_text()
    assert len(html) > 10_000 and "cross" in html

    best = json.loads(run_cli("best", "cross.yaml", "--format", "json").stdout)
    assert best["number"] == study.best_trial.number


def test_tune_study_is_continued_in_python(tmp_path, run_cli):
    write_config(tmp_path)
    run_cli("tune", "cross.yaml", "--trials", "4", "-q")
    # Opened by name alone: the stored space and direction.
    study = caviar.Study(storage=f"sqlite:///{tmp_path}/cross.db", name="cross")
    assert [p["name"] for p in study.space] == ["x", "n", "kind"]
    assert len(study.trials) == 4
    study.optimize(python_objective, n_trials=3)
    trials = study.trials
    assert [t.number for t in trials] == list(range(7))
    seen = cli_trials(run_cli)
    assert [t["number"] for t in seen] == list(range(7))
    assert all(t["state"] == "complete" for t in seen)
    assert [t["params"] for t in seen] == [t.params for t in trials]
    # And once more from the command line: the numbering goes on.
    run_cli("tune", "cross.yaml", "--trials", "8", "-q")
    assert [t.number for t in study.trials] == list(range(8))


def test_undeclared_parameters_are_seen_by_the_command_line(tmp_path, run_cli):
    url = f"sqlite:///{tmp_path}/free.db"
    study = caviar.Study(storage=url, name="free", space={"x": {"type": "float", "low": 0, "high": 1}})
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("extra", 1, 100, log=True), n_trials=3)
    seen = json.loads(run_cli("trials", "--storage", url, "--study", "free", "--format", "json").stdout)
    assert [t["params"] for t in seen] == [t.params for t in study.trials]
    assert all(1 <= t["params"]["extra"] <= 100 for t in seen)


@pytest.fixture
def postgres_url():
    """A database of its own on the PostgreSQL server that scripts/test.sh starts (PGHOST,
    PGUSER, CAVIAR_TEST_POSTGRESQL); dropped at the end. Skipped by hand without one."""
    if not os.environ.get("CAVIAR_TEST_POSTGRESQL"):
        pytest.skip("no PostgreSQL server: run through scripts/test.sh (make test)")
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"caviar_py_{os.getpid()}_{next(_databases)}"
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql:///{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


_databases = itertools.count()


def test_postgresql_study_is_shared_both_ways(tmp_path, run_cli, postgres_url):
    write_config(tmp_path)
    study = caviar.Study(storage=postgres_url, name="cross", space=SPACE)
    study.optimize(python_objective, n_trials=3)
    run_cli("tune", "cross.yaml", "--storage", postgres_url, "--trials", "5", "-q")
    seen = json.loads(run_cli("trials", "--storage", postgres_url, "--study", "cross", "--format", "json").stdout)
    assert [t["number"] for t in seen] == list(range(5))
    study.optimize(python_objective, n_trials=2)
    trials = study.trials
    assert [t.number for t in trials] == list(range(7))
    assert [t.params for t in trials[:5]] == [t["params"] for t in seen]
