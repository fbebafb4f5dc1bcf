#!/usr/bin/python3
"""Which target makes plain random search take about 3 minutes: reads the random-search
studies of a time-to-accuracy run whose target cannot be reached, and prints, per candidate
target t, the estimate the issue's calibration uses:

    E(t) = mean seconds of a trial / 2 workers / share of trials whose best val_acc >= t

over the trials of all the studies that trained every epoch, and each seed's time to first
reach t in its own study (the hitting trial's start plus the share of its run up to that
epoch; epochs are near equal in length).

  /usr/bin/python3 bench/time_to_accuracy.py --caviar build/caviar --seeds 0,1,2 \
      --strategies none --sampler random --target 1.0 --subset 10000 --cap 300 --keep DIR
  /usr/bin/python3 bench/time_to_accuracy_calibrate.py DIR [--low 0.860] [--high 0.880]
"""
import argparse
import glob
import os
import re

from time_to_accuracy_phases import curves


def complete_trials(db):
    """[(start, seconds, [val_acc by epoch])] of the trials that trained every epoch; start
    in seconds after the study's first trial."""
    trials, times = curves(db)
    epochs = max((len(steps) for _, _, steps in trials), default=0)
    return [(times[number][0], times[number][1] - times[number][0],
             [steps[k] for k in sorted(steps)])
            for number, state, steps in trials
            if state == "COMPLETE" and times[number][1] is not None and len(steps) == epochs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="the --keep folder of a random-search run (strategy none)")
    ap.add_argument("--low", type=float, default=0.860)
    ap.add_argument("--high", type=float, default=0.880)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    studies = {}
    for db in sorted(glob.glob(os.path.join(args.dir, "tta-none-random-*.db"))):
        seed = int(re.search(r"-(\d+)\.db$", db).group(1))
        studies[seed] = complete_trials(db)
    trials = [t for ts in studies.values() for t in ts]
    if not trials:
        raise SystemExit("no complete random-search trials in %s (tta-none-random-SEED.db)" % args.dir)
    mean_seconds = sum(t[1] for t in trials) / len(trials)
    print("%d complete trials over seeds %s, %.2f s each on average" % (
        len(trials), ", ".join(map(str, sorted(studies))), mean_seconds))
    print()
    print("| target | trials reaching it | share | E(t), s | first reach per seed, s |")
    print("|---:|---:|---:|---:|---|")
    for k in range(round(args.low * 1000), round(args.high * 1000) + 1):
        t = k / 1000
        hits = sum(max(curve) >= t for _, _, curve in trials)
        share = hits / len(trials)
        estimate = "%.0f" % (mean_seconds / args.workers / share) if hits else "-"
        firsts = []
        for seed, ts in sorted(studies.items()):
            reach = [start + seconds * (next(i for i, v in enumerate(curve) if v >= t) + 1) / len(curve)
                     for start, seconds, curve in ts if max(curve) >= t]
            firsts.append("%.0f" % min(reach) if reach else "-")
        print("| %.3f | %d | %.4f | %s | %s |" % (t, hits, share, estimate, ", ".join(firsts)))


if __name__ == "__main__":
    main()
