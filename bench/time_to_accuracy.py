#!/usr/bin/python3
"""Time to accuracy: how long each early-stopping strategy takes to first reach a target
validation accuracy on Fashion-MNIST, caviar's and Optuna 3.1's side by side.

Every run tunes the same `caviar train` command over the same space, 2 trials at a time,
and stops as soon as any reported validation accuracy reaches the target (or at the cap).
caviar's runs are `caviar tune` on a generated config (space fixed; the sampler is
--sampler, or the one after @ in a strategy such as asha@auto, with its settings after
colons as in asha@gp:cost=on, the pruner's after colons before the @ as in
asha:min_resource=3@gp; a /builtin suffix runs the trainer in caviar's process
instead of the command; only the pruner/scheduler changes); the time is read by polling
the study's SQLite file, where every report is stored as it arrives, every 0.1 s (every
0.5 s up to the seventeenth run of docs/benchmarks.md, whose caviar times are up to 0.5 s
late). Optuna's runs use its TPE sampler with its SuccessiveHalvingPruner (the same rungs
as caviar's asha) or MedianPruner (the same warm-up and minimum), running the command from
two threads and reporting each epoch line to the trial.

The defaults are the full-set set-up of docs/benchmarks.md (the full training set, 10
epochs, target 0.893: plain random search needs about 3-5 minutes); the issue's set-up
calibrated on the latest machine is --subset 10000 --target 0.870 (see
time_to_accuracy_calibrate.py):

  /usr/bin/python3 bench/time_to_accuracy.py --caviar build/caviar \
      [--strategies none,median,asha,hyperband,pbt,asha@auto,hyperband@auto,optuna-sh,optuna-median] \
      [--seeds 0,1,2] [--sampler random] [--target 0.893] [--subset 0] [--epochs 10] \
      [--cap 600] [--out tta.csv] [--keep DIR]

Prints one line per run as it ends and a Markdown table at the end (median over seeds;
a run that misses the target within the cap counts as the cap, marked with >).
"""
import argparse
import csv
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SPACE_YAML = """\
parameters:
  lr:         {type: float, low: 1.0e-4, high: 0.1, scale: log}
  momentum:   {type: float, low: 0.8, high: 0.999, scale: reverse_log}
  units:      {type: int, low: 32, high: 512, scale: log}
  layers:     {type: int, low: 1, high: 3}
  batch_size: {type: choice, values: [32, 64, 128, 256]}
  decay:      {type: float, low: 1.0e-3, high: 1, scale: log}
  optimizer:  {type: choice, values: [momentum, adam]}
"""

POLL_SECONDS = 0.1  # how often caviar's study is read; its times are late by up to this

# What each caviar strategy adds to the config. Resources are epochs. A strategy may
# override its pruner's settings after colons: asha:min_resource=3.
def strategy_yaml(name, epochs):
    name, *overrides = name.split(":")
    settings = {
        "none": None,
        "median": {"name": "median", "warmup_steps": 1, "min_trials": 4},
        "asha": {"name": "asha", "min_resource": 1, "max_resource": epochs, "reduction_factor": 3},
        "hyperband": {"name": "hyperband", "min_resource": 1, "max_resource": epochs,
                      "reduction_factor": 3},
    }
    if name == "pbt":
        # A checkpoint fits one network shape and optimizer, so explore leaves those alone.
        return ("scheduler: {name: pbt, population: 16, interval: 2, max_steps: %d, "
                "explore: [lr, momentum, decay, batch_size]}\n" % epochs)
    if name not in settings:
        raise SystemExit("unknown strategy " + name)
    pruner = settings[name]
    for kv in overrides:
        key, _, value = kv.partition("=")
        if pruner is None or key not in pruner or key == "name":
            raise SystemExit("strategy %s has no setting %s" % (name, key))
        pruner[key] = int(value)
    if pruner is None:
        return ""
    return "pruner: {%s}\n" % ", ".join("%s: %s" % kv for kv in pruner.items())


def train_argv(caviar, args, params):
    return [caviar, "train", "--dataset", "fashion-mnist", "--train-subset", str(args.subset),
            "--epochs", str(args.epochs), "--threads", "1",
            "--lr", repr(params["lr"]), "--momentum", repr(params["momentum"]),
            "--units", str(params["units"]), "--layers", str(params["layers"]),
            "--batch-size", str(params["batch_size"]), "--decay", repr(params["decay"]),
            "--optimizer", params["optimizer"]]


def run_caviar(strategy, seed, args, workdir):
    """strategy is a pruner or scheduler name, optionally with @sampler (asha@auto) and the
    sampler's settings after colons (asha@gp:pruned=last); the sampler is --sampler
    otherwise. A /builtin suffix (asha@auto/builtin) runs the trainer in caviar's process
    (objective: {builtin: mlp}) instead of the `caviar train` command."""
    strategy, _, objective = strategy.partition("/")
    strategy, _, sampler = strategy.partition("@")
    sampler, *settings = (sampler or args.sampler).split(":")
    extra = "".join(", %s: %s" % tuple(kv.split("=", 1)) for kv in settings)
    tag = "%s-%s%s-%d" % (strategy, "-".join([sampler] + settings),
                          "-" + objective if objective else "", seed)
    tag = tag.replace(":", "-").replace("=", "-")
    db = os.path.join(workdir, "tta-%s.db" % tag)
    cfg = os.path.join(workdir, "tta-%s.yaml" % tag)
    if objective == "builtin":
        # The same trainer in caviar's own process: no process start or data loading per
        # trial (the data set is read once), stopped at its next report when pruned.
        objective_yaml = ("  builtin: mlp\n  args: {dataset: fashion-mnist, train_subset: %d, "
                          "epochs: %d, threads: 1}\n" % (args.subset, args.epochs))
    elif objective:
        raise SystemExit("unknown objective /%s (only /builtin)" % objective)
    else:
        objective_yaml = (
            "  command: [%s, train, --dataset, fashion-mnist, --train-subset, %d, --epochs, %d, "
            "--threads, 1, --lr, '{lr}', --momentum, '{momentum}', --units, '{units}', "
            "--layers, '{layers}', --batch-size, '{batch_size}', --decay, '{decay}', "
            "--optimizer, '{optimizer}']\n" % (args.caviar, args.subset, args.epochs))
    with open(cfg, "w") as f:
        f.write("study: tta\nstorage: sqlite:///%s\ndirection: maximize\nmetric: val_acc\n"
                "objective:\n%s%s"
                "sampler: {name: %s, seed: %d%s}\n"
                "budget: {parallel: 2, time: %ds}\n%s"
                % (db, objective_yaml, SPACE_YAML, sampler, seed, extra, args.cap,
                   strategy_yaml(strategy, args.epochs)))
    log = open(os.path.join(workdir, "tta-%s.log" % tag), "w")
    start = time.monotonic()
    proc = subprocess.Popen([args.caviar, "tune", cfg], stdout=log, stderr=subprocess.STDOUT)
    reached = None
    best = 0.0
    while proc.poll() is None:
        time.sleep(POLL_SECONDS)
        best = max(best, best_reported(db))
        if best >= args.target:
            reached = time.monotonic() - start
            proc.send_signal(signal.SIGINT)  # caviar stores running trials as interrupted
            break
        if time.monotonic() - start > args.cap + 30:
            proc.send_signal(signal.SIGINT)
            break
    proc.wait()
    if reached is None:
        best = max(best, best_reported(db))
        if best >= args.target:
            reached = time.monotonic() - start
    trials = count_trials(db)
    return reached, best, trials


def best_reported(db):
    if not os.path.exists(db):
        return 0.0
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        row = con.execute("SELECT max(intermediate_value) FROM trial_intermediate_values").fetchone()
        con.close()
        return row[0] or 0.0
    except sqlite3.Error:
        return 0.0


def count_trials(db):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        n = con.execute("SELECT count(*) FROM trials").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def run_optuna(strategy, seed, args):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    name = strategy
    strategy, _, min_resource = strategy.partition(":min_resource=")
    if strategy == "optuna-sh":
        # The same rungs as caviar's asha (r = 1 epoch, η = 3, or r as in
        # optuna-sh:min_resource=3); Optuna's defaults (r from the first complete trial,
        # η = 4) stop nothing until a trial has completed.
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=int(min_resource or 1),
                                                        reduction_factor=3)
    elif strategy == "optuna-median" and not min_resource:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    else:
        raise SystemExit("unknown strategy " + name +
                         (" (min_resource is for optuna-sh)" if min_resource else ""))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=pruner)
    start = time.monotonic()
    state = {"reached": None, "best": 0.0, "interrupted": False}
    lock = threading.Lock()
    procs = set()

    def objective(trial):
        if state["interrupted"]:
            study.stop()
            raise optuna.TrialPruned()
        params = {
            "lr": trial.suggest_float("lr", 1e-4, 0.1, log=True),
            # reverse_log: 1 - momentum log-uniform on [1e-3, 0.2]
            "momentum": 1 - trial.suggest_float("one_minus_momentum", 1e-3, 0.2, log=True),
            "units": trial.suggest_int("units", 32, 512, log=True),
            "layers": trial.suggest_int("layers", 1, 3),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
            "decay": trial.suggest_float("decay", 1e-3, 1, log=True),
            "optimizer": trial.suggest_categorical("optimizer", ["momentum", "adam"]),
        }
        proc = subprocess.Popen(train_argv(args.caviar, args, params), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        with lock:
            procs.add(proc)
            if state["interrupted"]:
                proc.kill()
        value = None
        try:
            for line in proc.stdout:
                fields = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
                if "val_acc" not in fields:
                    continue
                value = float(fields["val_acc"])
                step = int(fields.get("epoch", 0))
                with lock:
                    state["best"] = max(state["best"], value)
                    if value >= args.target and state["reached"] is None:
                        state["reached"] = time.monotonic() - start
                        study.stop()
                        for p in procs:
                            if p is not proc:
                                p.kill()
                if state["reached"] is not None:
                    break
                trial.report(value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        finally:
            proc.kill()
            proc.wait()
            with lock:
                procs.discard(proc)
        if value is None:
            raise RuntimeError("no val_acc printed")
        return value

    def interrupt(signum, frame):
        # Ctrl-C: Optuna's thread pool would wait for the running trials to end, so stop
        # their trainers here; the next objective stops the study (Study.stop works only
        # inside one) and optimize returns.
        with lock:
            state["interrupted"] = True
            for p in procs:
                p.kill()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        study.optimize(objective, n_jobs=2, timeout=args.cap, catch=(RuntimeError,))
    finally:
        signal.signal(signal.SIGINT, previous)
    if state["interrupted"]:
        raise KeyboardInterrupt
    return state["reached"], state["best"], len(study.trials)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--caviar", required=True, help="path to the caviar binary")
    ap.add_argument("--strategies",
                    default="none,median,asha,hyperband,pbt,asha@auto,hyperband@auto,optuna-sh,optuna-median")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--sampler", default="random", help="caviar's sampler for strategies without @sampler")
    ap.add_argument("--target", type=float, default=0.893)
    ap.add_argument("--subset", type=int, default=0, help="training images used (0: all 50,000)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--cap", type=int, default=600, help="seconds per run")
    ap.add_argument("--out", default="tta.csv")
    ap.add_argument("--keep", help="keep the studies and logs in this folder")
    args = ap.parse_args()
    args.caviar = os.path.abspath(args.caviar)

    workdir = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="caviar-tta-")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    new = not os.path.exists(args.out)
    out = open(args.out, "a", newline="")
    w = csv.writer(out)
    if new:
        w.writerow(["strategy", "seed", "target", "subset", "epochs", "seconds_to_target",
                    "best_val_acc", "trials"])
    for seed in [int(s) for s in args.seeds.split(",")]:
        for strategy in args.strategies.split(","):
            if strategy.startswith("optuna"):
                reached, best, trials = run_optuna(strategy, seed, args)
            else:
                reached, best, trials = run_caviar(strategy, seed, args, workdir)
            rows.append((strategy, seed, reached, best, trials))
            w.writerow([strategy, seed, args.target, args.subset, args.epochs,
                        "" if reached is None else "%.1f" % reached, "%.4f" % best, trials])
            out.flush()
            print("%-14s seed %d: %s (best val_acc %.4f, %d trials)" % (
                strategy, seed, "missed" if reached is None else "%.1f s" % reached, best, trials),
                flush=True)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\n| strategy | seconds to val_acc ≥ %.3f, per seed | median |\n|---|---|---:|" % args.target)
    for strategy in args.strategies.split(","):
        times = [r[2] for r in rows if r[0] == strategy]
        capped = [args.cap if t is None else t for t in times]
        cells = ", ".join(">%d" % args.cap if t is None else "%.0f" % t for t in times)
        med = statistics.median(capped)
        print("| %s | %s | %s%.0f |" % (strategy, cells, ">" if med >= args.cap else "", med))


if __name__ == "__main__":
    main()
