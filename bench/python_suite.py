#!/usr/bin/python3
"""caviar's AutoSampler inside Optuna on problems of the public suite (../shared/bench/suite.py,
the problems bench_quality runs through caviar's own tuner; suite.md gives their math).

For each problem and seed: an in-memory Optuna study with caviar.optuna.AutoSampler(seed),
`--trials` trials of the suite's objective (suggest_float / suggest_int /
suggest_categorical, as the suite's Optuna baseline calls them). Prints per problem the
median best value, the median regret (best - f*) over the seeds, and seconds per study;
with --optuna, Optuna's own TPESampler(seed) beside it on the same seeds.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_suite.py --seeds 0 1 2
       [--trials 40] [--problems branin2 hartmann3 hp_log2 hp_mixed3] [--optuna]
       [--suite PATH/suite.py]
A few minutes at the defaults on 2 cores; the GP's cost grows with --trials.
"""
import argparse
import importlib.util
import pathlib
import statistics
import time

import optuna

from caviar.optuna import AutoSampler

DEFAULT_SUITE = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "suite.py"


def load_suite(path):
    spec = importlib.util.spec_from_file_location("suite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(problem, sampler, trials, suite):
    study = optuna.create_study(sampler=sampler)
    start = time.perf_counter()
    study.optimize(suite.make_objective(problem), n_trials=trials)
    return study.best_value, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--problems", nargs="+", default=["branin2", "hartmann3", "hp_log2", "hp_mixed3"])
    parser.add_argument("--optuna", action="store_true", help="also run Optuna's TPESampler")
    parser.add_argument("--suite", default=str(DEFAULT_SUITE), help="the suite's suite.py")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    suite = load_suite(args.suite)
    samplers = [("caviar AutoSampler", lambda seed: AutoSampler(seed=seed))]
    if args.optuna:
        samplers.append(("Optuna TPESampler", lambda seed: optuna.samplers.TPESampler(seed=seed)))
    print(f"{args.trials} trials, seeds {args.seeds}, Optuna {optuna.__version__}, in memory")
    print("| problem | sampler | median best | median regret | s per study |")
    print("|---|---|---:|---:|---:|")
    for name in args.problems:
        problem = suite.BY_NAME[name]
        for label, make in samplers:
            results = [run(problem, make(seed), args.trials, suite) for seed in args.seeds]
            best = statistics.median(r[0] for r in results)
            regret = statistics.median(r[0] - problem["fstar"] for r in results)
            seconds = statistics.median(r[1] for r in results)
            print(f"| {name} | {label} | {best:.6g} | {regret:.3g} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
