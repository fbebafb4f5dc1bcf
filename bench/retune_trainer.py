#!/usr/bin/python3
"""Re-tuning the built-in trainer after its data changed (issue 32, docs/retune.md).

One old study tunes the MLP on Fashion-MNIST (a 10,000-image training subset, a few
epochs); then the data change three ways, and each changed problem is tuned three ways
with the same number of trials, one at a time, in this one run:
  cold    `caviar tune` of a new study;
  retune  `caviar retune --from old`: the old best 5 first, then the warm-started sampler;
  optuna  Optuna 3.1: the same old best 5 enqueued, then TPESampler, each trial a
          `caviar train` process (the same command caviar's trials run).
The changes: another training subset (--train-offset), 20 % label noise (--label-noise
0.2), a class dropped (--drop-class 6, shirts). Prints the best validation accuracy of each
arm after --check and after --trials trials, per change and seed.

  /usr/bin/python3 bench/retune_trainer.py --caviar build/caviar [--seeds 0,1]
      [--old-trials 20] [--trials 15] [--check 8] [--epochs 4] [--subset 10000]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import optuna

SPACE = {  # as the config's parameters: mapping; adam throughout
    "lr": {"type": "float", "low": 1.0e-4, "high": 0.1, "scale": "log"},
    "units": {"type": "int", "low": 32, "high": 512, "scale": "log"},
    "batch_size": {"type": "choice", "values": [32, 64, 128, 256]},
    "layers": {"type": "int", "low": 1, "high": 3},
    "decay": {"type": "float", "low": 1.0e-3, "high": 1, "scale": "log"},
}
CHANGES = {"subset": {"train_offset": 20000}, "noise": {"label_noise": 0.2}, "drop": {"drop_class": 6}}


def config(study, seed, trials, args, change):
    lines = [f"study: {study}", "storage: sqlite:///retune.db", "direction: maximize", "metric: val_acc",
             "objective:", "  builtin: mlp",
             "  args: " + json.dumps({"dataset": "fashion-mnist", "epochs": args.epochs, "threads": 1,
                                      "train_subset": args.subset, **change}),
             "parameters:"]
    lines += [f"  {k}: {json.dumps(v)}" for k, v in SPACE.items()]
    lines += [f"sampler: {{name: auto, seed: {seed}}}", f"budget: {{trials: {trials}, parallel: 1}}"]
    return "\n".join(lines) + "\n"


def best_at(values, n):
    done = [v for v in values[:n] if v is not None]
    return max(done) if done else float("nan")


def caviar_values(args, cfg):
    out = subprocess.run([args.caviar, "trials", cfg, "--format", "json"], capture_output=True, text=True, check=True)
    trials = sorted(json.loads(out.stdout), key=lambda t: t["number"])
    return [t["value"] if t["state"] == "complete" else None for t in trials]


def optuna_arm(args, seed, change, old_best):
    def objective(trial):
        p = {}
        for name, d in SPACE.items():
            if d["type"] == "choice":
                p[name] = trial.suggest_categorical(name, d["values"])
            elif d["type"] == "int":
                p[name] = trial.suggest_int(name, d["low"], d["high"], log=d.get("scale") == "log")
            else:
                p[name] = trial.suggest_float(name, d["low"], d["high"], log=d.get("scale") == "log")
        cmd = [args.caviar, "train", "--dataset", "fashion-mnist", "--epochs", str(args.epochs), "--threads", "1",
               "--train-subset", str(args.subset)]
        for k, v in {**change, **p}.items():
            cmd += ["--" + k.replace("_", "-"), str(v)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        return float(re.findall(r"val_acc=([0-9.]+)", out)[-1])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    for params in old_best:
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=args.trials)
    return [t.value for t in sorted(study.trials, key=lambda t: t.number)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--caviar", required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--old-trials", type=int, default=20)
    ap.add_argument("--trials", type=int, default=15)
    ap.add_argument("--check", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--subset", type=int, default=10000)
    args = ap.parse_args()
    args.caviar = os.path.abspath(args.caviar)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        work = tempfile.mkdtemp(prefix="retune-trainer-")
        os.chdir(work)
        with open("old.yaml", "w") as f:
            f.write(config("old", 1000 + seed, args.old_trials, args, {}))
        subprocess.run([args.caviar, "tune", "old.yaml", "-q"], check=True, capture_output=True)
        old = json.loads(subprocess.run([args.caviar, "trials", "old.yaml", "--format", "json"],
                                        capture_output=True, text=True, check=True).stdout)
        ranked = sorted((t for t in old if t["state"] == "complete"), key=lambda t: -t["value"])
        old_best = []
        for t in ranked:
            if t["params"] not in old_best:
                old_best.append(t["params"])
            if len(old_best) == 5:
                break
        for name, change in CHANGES.items():
            values = {}
            for arm in ("cold", "retune"):
                cfg = f"{arm}-{name}.yaml"
                with open(cfg, "w") as f:
                    f.write(config(f"{arm}-{name}", seed, args.trials, args, change))
                cmd = [args.caviar, "tune", cfg, "-q"] if arm == "cold" else \
                      [args.caviar, "retune", cfg, "--from", "old", "-q"]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode not in (0, 10):
                    sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}")
                values[arm] = caviar_values(args, cfg)
            values["optuna"] = optuna_arm(args, seed, change, old_best)
            row = [name, seed] + [best_at(values[a], n) for a in ("cold", "retune", "optuna")
                                  for n in (args.check, args.trials)]
            rows.append(row)
            print(f"seed {seed} {name}: " + " ".join(f"{x:.4f}" for x in row[2:]), file=sys.stderr)
    c, t = args.check, args.trials
    print(f"\n| change | seed | cold @{c} | cold @{t} | retune @{c} | retune @{t} | optuna @{c} | optuna @{t} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | " + " | ".join(f"{x:.4f}" for x in r[2:]) + " |")
    for name in CHANGES:
        sel = [r for r in rows if r[0] == name]
        med = [statistics.median(r[i] for r in sel) for i in range(2, 8)]
        print(f"| {name} | median | " + " | ".join(f"{x:.4f}" for x in med) + " |")


if __name__ == "__main__":
    main()
