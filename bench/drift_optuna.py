#!/usr/bin/python3
"""Optuna's arm of bench_drift (bench/bench_drift.cpp): Optuna's usual warm start.

For each run of --runs (JSON lines: problem, shift, seed, space, fstar, old_best), a new
in-memory Optuna study enqueues the old study's best configurations (the same ones caviar
runs first), then samples with TPESampler(seed=seed), --trials trials in all. The moved
problem is evaluated by `bench_drift --serve` (one definition of each problem), so both
sides tune the same function. Writes CSV: problem,shift,seed,r10,r30,r100 (regret at 10,
30 and 100 trials, best value - f*).
"""
import argparse
import json
import math
import shlex
import subprocess
import sys

import optuna

BUDGETS = (10, 30, 100)


def suggest(trial, d):
    """A parameter of caviar's space (its config form) through Optuna's public API."""
    log = d.get("scale") == "log"
    if d["type"] == "choice":
        return trial.suggest_categorical(d["name"], d["values"])
    if d["type"] == "int":
        return trial.suggest_int(d["name"], d["low"], d["high"], log=log)
    return trial.suggest_float(d["name"], d["low"], d["high"], log=log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--serve", required=True, help="the bench_drift --serve command")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    server = subprocess.Popen(shlex.split(a.serve), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    with open(a.runs) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    rows = []
    for i, run in enumerate(runs):
        def objective(trial):
            params = {d["name"]: suggest(trial, d) for d in run["space"]}
            server.stdin.write(json.dumps({"problem": run["problem"], "shift": run["shift"], "seed": run["seed"],
                                           "params": params}) + "\n")
            server.stdin.flush()
            return float(server.stdout.readline())

        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=run["seed"]))
        for params in run["old_best"]:
            study.enqueue_trial(params)
        study.optimize(objective, n_trials=a.trials)
        best, regret = math.inf, []
        for t in sorted(study.trials, key=lambda t: t.number):
            if t.value is not None:
                best = min(best, t.value)
            if t.number + 1 in BUDGETS:
                regret.append(best - run["fstar"])
        rows.append((run["problem"], run["shift"], run["seed"], *regret))
        print(f"\roptuna {i + 1}/{len(runs)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    server.stdin.close()
    server.wait()
    with open(a.out, "w") as f:
        f.write("problem,shift,seed,r10,r30,r100\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()
