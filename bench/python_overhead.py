#!/usr/bin/python3
"""The Python API's per-trial overhead next to Optuna's, both in process (issue 33).

One trial: ask, five suggest_float in [-10, 10], tell the sum of their squares; random
sampler, in-memory storage, one thread. Cases:

  ask-tell    caviar.Study.ask / tell         vs  optuna ask / tell (RandomSampler)
  optimize    caviar.Study.optimize           vs  optuna study.optimize (RandomSampler)

Goal: caviar at least 100x faster per trial. Each side's study is checked to hold exactly n
complete trials numbered 0..n-1. Prints a markdown table: case, trials, caviar trials/s,
Optuna trials/s, caviar/Optuna.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--trials 2000]
       [--optuna-trials N] [--repeat 3]
The best of --repeat runs is kept for each (the least disturbed by other work).
"""
import argparse
import time

import optuna

import caviar

DIM = 5
SPACE = {f"x{i}": {"type": "float", "low": -10, "high": 10} for i in range(DIM)}


def objective(trial):
    return sum(trial.suggest_float(f"x{i}", -10, 10) ** 2 for i in range(DIM))


def caviar_ask_tell(n):
    study = caviar.Study(space=SPACE, sampler={"name": "random", "seed": 0})
    start = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, objective(trial))
    return time.perf_counter() - start, study


def caviar_optimize(n):
    study = caviar.Study(space=SPACE, sampler={"name": "random", "seed": 0})
    start = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - start, study


def optuna_ask_tell(n):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, objective(trial))
    return time.perf_counter() - start, study


def optuna_optimize(n):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - start, study


def check(study, n, complete):
    trials = study.trials
    assert [t.number for t in trials] == list(range(n)), "trial numbers are not 0..n-1"
    assert all(t.state == complete for t in trials), "not every trial is complete"


def best_rate(run, n, repeat, complete):
    best = 0.0
    for _ in range(repeat):
        seconds, study = run(n)
        check(study, n, complete)
        best = max(best, n / seconds)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000, help="caviar's trials per run")
    parser.add_argument("--optuna-trials", type=int, default=None, help="Optuna's (default: --trials)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_optuna = args.optuna_trials or args.trials
    cases = [("ask-tell", caviar_ask_tell, optuna_ask_tell), ("optimize", caviar_optimize, optuna_optimize)]
    print(f"caviar {caviar.__version__}, Optuna {optuna.__version__}; {DIM} floats, random sampler, in memory, "
          f"best of {args.repeat}")
    print("| case | trials (caviar / Optuna) | caviar trials/s | Optuna trials/s | caviar/Optuna |")
    print("|---|---:|---:|---:|---:|")
    for name, ours, theirs in cases:
        c = best_rate(ours, args.trials, args.repeat, caviar.TrialState.COMPLETE)
        o = best_rate(theirs, n_optuna, args.repeat, optuna.trial.TrialState.COMPLETE)
        print(f"| {name} | {args.trials:,} / {n_optuna:,} | {c:,.0f} | {o:,.0f} | **{c / o:.0f}x** |", flush=True)


if __name__ == "__main__":
    main()
