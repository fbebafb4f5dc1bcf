#!/usr/bin/python3
"""Where a time-to-accuracy run spent its epochs: reads the caviar studies that
time_to_accuracy.py kept (--keep DIR) and splits each one at the first trial whose report
reached --near (default 0.889, a region within the noise of the target).

  /usr/bin/python3 bench/time_to_accuracy_phases.py DIR [--strategy asha-gp-builtin]
      [--near 0.889] [--target 0.893]

Per study: the trials it started, the first trial to reach --near and the first to reach
--target (trial numbers), the epochs trained after the first --near trial, the part of them
in pruned trials, and the trials trained to the end after it; when the trial that reached
--target started (seconds after the study's first trial) and how long it ran (to its end,
which is when time_to_accuracy.py saw the target and stopped the run). Then, over every trial of
those studies that trained to the last epoch, the correlation of its value at each rung
with its last value: how well a rung ranks the configurations that are worth finishing.
"""
import argparse
import datetime
import glob
import os
import re
import sqlite3
import statistics


def curves(db):
    """[(number, state, {step: value})] in trial order, and {number: (start, end)} in
    seconds after the first trial's start (end None while running)."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    out, times = [], {}
    first = None
    for tid, number, state, start, end in con.execute(
            "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials ORDER BY number"):
        steps = dict(con.execute("SELECT step, intermediate_value FROM trial_intermediate_values "
                                 "WHERE trial_id = ?", (tid,)).fetchall())
        out.append((number, state, steps))
        if start is None:  # waiting (enqueued), never started
            continue
        start = datetime.datetime.fromisoformat(start)
        first = first or start
        times[number] = ((start - first).total_seconds(),
                         (datetime.datetime.fromisoformat(end) - first).total_seconds() if end else None)
    con.close()
    return out, times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="the --keep folder of a time_to_accuracy.py run")
    ap.add_argument("--strategy", default="asha-gp-builtin",
                    help="the studies' tag without the seed, as in tta-TAG-SEED.db")
    ap.add_argument("--near", type=float, default=0.889)
    ap.add_argument("--target", type=float, default=0.893)
    args = ap.parse_args()

    pattern = re.compile(r"tta-%s-(\d+)\.db$" % re.escape(args.strategy))
    studies = sorted((int(m.group(1)), path) for path in glob.glob(os.path.join(args.dir, "tta-*.db"))
                     for m in [pattern.search(path)] if m)
    if not studies:
        raise SystemExit("no studies tta-%s-SEED.db in %s" % (args.strategy, args.dir))

    print("| seed | trials | first >= %.3f | first >= %.3f | after it: epochs | in trials stopped early | "
          "trials trained to the end | the hit started at, s | and ran, s |" % (args.near, args.target))
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    studies = [(seed,) + curves(db) for seed, db in studies]
    last_step = max(max(s) for _, trials, _ in studies for _, _, s in trials if s)
    finished = []
    starts, runs = [], []
    for seed, trials, times in studies:
        near = next((n for n, _, s in trials if s and max(s.values()) >= args.near), None)
        hit = next((n for n, _, s in trials if s and max(s.values()) >= args.target), None)
        epochs = early = full = 0
        for number, state, steps in trials:
            if not steps:
                continue
            if max(steps) == last_step:
                finished.append(steps)
            if near is None or number <= near:
                continue
            epochs += max(steps)
            if state == "PRUNED":
                early += max(steps)
            elif max(steps) == last_step:
                full += 1
        start, end = times.get(hit, (None, None))
        if start is not None and end is not None:
            starts.append(start)
            runs.append(end - start)
        print("| %d | %d | %s | %s | %d | %d | %d | %s | %s |" % (
            seed, len(trials), "-" if near is None else "#%d" % near, "-" if hit is None else "#%d" % hit,
            epochs, early, full, "-" if start is None else "%.0f" % start,
            "-" if start is None or end is None else "%.0f" % (end - start)))
    if runs:
        print("\nThe trial that reached %.3f started at a median %.1f s after the first trial (%d of %d "
              "within 5 s, %d within 10 s) and ran a median %.1f s (%.1f-%.1f) until then."
              % (args.target, statistics.median(starts), sum(s <= 5 for s in starts), len(starts),
                 sum(s <= 10 for s in starts), statistics.median(runs), min(runs), max(runs)))

    rungs = sorted({step for steps in finished for step in steps if step < last_step})
    print("\nTrials trained to epoch %d: %d. Correlation of the value at a step with the last value:"
          % (last_step, len(finished)))
    print("\n| last value at least | trials | " + " | ".join("step %d" % r for r in rungs) + " |")
    print("|---:|---:|" + "---:|" * len(rungs))
    for floor in (0.0, 0.87, 0.88, 0.885):
        rows = [s for s in finished if s[last_step] >= floor]
        cells = []
        for r in rungs:
            pairs = [(s[r], s[last_step]) for s in rows if r in s]
            cells.append("%.2f" % statistics.correlation(*zip(*pairs)) if len(pairs) > 2 else "-")
        print("| %.3f | %d | %s |" % (floor, len(rows), " | ".join(cells)))


if __name__ == "__main__":
    main()
