#!/usr/bin/python3
"""caviar's time to accuracy as a ratio of Optuna's, with its uncertainty: reads the CSV
files that bench/time_to_accuracy.py wrote (--out), pools their seeds, and prints per
strategy the median and mean seconds, then the ratio of one caviar strategy's median (and
mean) to the best Optuna row's, with a 90 % bootstrap interval over seeds (seeds drawn
with replacement, each draw's ratio taken against the best Optuna row of that draw).

  /usr/bin/python3 bench/time_to_accuracy_ratio.py sub16.csv s13b.csv \
      [--caviar asha@gp/builtin] [--resamples 4000] [--seed 0]

A run that missed the target counts as the cap it ran under (600 s unless --cap). Every
file must hold the same target and training subset; a seed in two files is an error.
"""
import argparse
import collections
import csv
import random
import statistics
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--caviar", default="asha@gp/builtin", help="the caviar strategy to compare")
    ap.add_argument("--cap", type=float, default=600.0, help="seconds a missed run counts as")
    ap.add_argument("--resamples", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    times = collections.defaultdict(dict)  # strategy -> seed -> seconds
    setups = set()
    for path in args.csv:
        with open(path) as f:
            for row in csv.DictReader(f):
                setups.add((row["target"], row["subset"], row["epochs"]))
                seed = int(row["seed"])
                if seed in times[row["strategy"]]:
                    sys.exit("%s: seed %d of %s is in two files" % (path, seed, row["strategy"]))
                s = row["seconds_to_target"]
                times[row["strategy"]][seed] = float(s) if s else args.cap
    if len(setups) != 1:
        sys.exit("the files hold different set-ups (target, subset, epochs): %s" % sorted(setups))
    optuna = [k for k in times if k.startswith("optuna")]
    if args.caviar not in times or not optuna:
        sys.exit("need the rows of %s and at least one optuna-* strategy" % args.caviar)
    seeds = sorted(set(times[args.caviar]).intersection(*(times[k] for k in optuna)))
    if not seeds:
        sys.exit("no seed has every strategy's row")

    print("| strategy | seeds | median (s) | mean (s) |\n|---|---:|---:|---:|")
    for k, by_seed in sorted(times.items()):
        xs = list(by_seed.values())
        print("| %s | %d | %.1f | %.1f |" % (k, len(xs), statistics.median(xs), statistics.mean(xs)))

    def ratio(sample, stat):
        best_optuna = min(stat([times[k][s] for s in sample]) for k in optuna)
        return stat([times[args.caviar][s] for s in sample]) / best_optuna

    rng = random.Random(args.seed)
    print("\n%s against the best Optuna row, %d seeds that have every row:" % (args.caviar, len(seeds)))
    for name, stat in (("median", statistics.median), ("mean", statistics.mean)):
        draws = sorted(ratio([rng.choice(seeds) for _ in seeds], stat) for _ in range(args.resamples))
        lo, hi = draws[int(0.05 * len(draws))], draws[int(0.95 * len(draws)) - 1]
        print("  ratio of %ss %.2f (90%% bootstrap interval %.2f-%.2f)" % (name, ratio(seeds, stat), lo, hi))


if __name__ == "__main__":
    main()
