#!/usr/bin/python3
"""How fast could any strategy reach the time-to-accuracy target? An oracle that already
knows a good configuration and only trains it.

Each named configuration is trained --repeats times with the benchmark's command (seed 0,
like every trial of bench/time_to_accuracy.py) and its learning rate nudged by a uniform
±3 % (so each run is a fresh draw of the noise, as a sampler's next point near it would
be), 2 runs at a time, as in the benchmark. Printed per configuration: how many runs
reached the target, the median run's seconds, and the oracle's time to target: 2 workers
taking runs of that configuration drawn at random with replacement (bootstrap, 2,000
sequences) until a report reaches the target.

  /usr/bin/python3 bench/time_to_accuracy_oracle.py --caviar build/caviar [--repeats 10] \
      [--target 0.893] [--out curves.jsonl]

The default configurations are two of the best that earlier benchmark runs trained
(docs/benchmarks.md, "Is the target within reach?").
"""
import argparse
import json
import queue
import random
import statistics
import subprocess
import threading
import time

CONFIGS = {
    "A": dict(lr=0.00237, momentum=0.9969, units=166, layers=3, batch_size=32, decay=0.5386,
              optimizer="adam"),
    "B": dict(lr=0.00316, momentum=0.8, units=512, layers=3, batch_size=128, decay=1.0,
              optimizer="adam"),
}


def train(caviar, params):
    """One run; returns [(seconds since start, val_acc)] per epoch."""
    argv = [caviar, "train", "--dataset", "fashion-mnist", "--epochs", "10", "--threads", "1"]
    for name, value in params.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    curve = []
    for line in proc.stdout:
        fields = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
        if "epoch" in fields and "val_acc" in fields:
            curve.append((time.monotonic() - start, float(fields["val_acc"])))
    if proc.wait() != 0 or not curve:
        raise RuntimeError("caviar train failed or reported no epoch: %s" % " ".join(argv))
    return curve


def oracle_times(curves, target, orders=2000, seed=0):
    """Time to target of 2 workers taking runs drawn at random from curves."""
    rng = random.Random(seed)
    times = []
    for _ in range(orders):
        free, reached = [0.0, 0.0], None
        while reached is None or min(free) < reached:
            worker = min(range(2), key=lambda w: free[w])
            curve = rng.choice(curves)
            hits = [t for t, v in curve if v >= target]
            if hits:
                at = free[worker] + hits[0]
                reached = at if reached is None else min(reached, at)
            free[worker] += curve[-1][0]
        times.append(reached)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--caviar", default="build/caviar")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--target", type=float, default=0.893)
    ap.add_argument("--out", default="", help="write every run's curve here (JSON lines)")
    args = ap.parse_args()

    rng = random.Random(1)
    jobs = queue.Queue()
    for i in range(args.repeats):
        for name, base in CONFIGS.items():
            params = dict(base, lr=base["lr"] * (1 + rng.uniform(-0.03, 0.03)))
            jobs.put((name, params))
    runs = {name: [] for name in CONFIGS}
    lock = threading.Lock()
    out = open(args.out, "w") if args.out else None

    errors = []

    def worker():
        while not errors:
            try:
                name, params = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                curve = train(args.caviar, params)
            except RuntimeError as e:
                errors.append(str(e))
                return
            with lock:
                runs[name].append(curve)
                if out:
                    out.write(json.dumps({"config": name, "params": params, "curve": curve}) + "\n")
                    out.flush()
                print("%s lr=%.5f: %.1f s, val_acc %s" % (name, params["lr"], curve[-1][0],
                      " ".join("%.4f" % v for _, v in curve)), flush=True)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if out:
        out.close()
    if errors:
        raise SystemExit(errors[0])

    print("\n| configuration | runs reaching %.3f | median run, s | oracle time to target: median, mean, 90th percentile, s |" % args.target)
    print("|---|---:|---:|---|")
    for name, curves in runs.items():
        hits = sum(any(v >= args.target for _, v in c) for c in curves)
        line = "| %s | %d of %d | %.1f |" % (name, hits, len(curves),
                                            statistics.median(c[-1][0] for c in curves))
        if hits:
            times = sorted(oracle_times(curves, args.target))
            line += " %.1f, %.1f, %.1f |" % (statistics.median(times), statistics.mean(times),
                                             times[int(0.9 * len(times))])
        else:
            line += " never |"
        print(line)
        print("  %s: %s" % (name, json.dumps(CONFIGS[name])))


if __name__ == "__main__":
    main()
