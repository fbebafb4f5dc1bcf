#!/usr/bin/python3
"""Tune a PyTorch MLP on Fashion-MNIST with caviar, in process, with pruning.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/fashion_mnist_mlp.py --trials 20 --epochs 8
    build/caviar report --storage sqlite:///fashion-py.db --study fashion-mlp-py --out report.html

The data are Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, as caviar's
own trainer reads them); 50,000 images train, 10,000 validate (the last of the training
file), the test file is left alone. Each epoch reports val_loss; the median pruner stops
trials that fall behind. A smoke run: --trials 3 --epochs 1 --train-subset 2000.
fashion_mnist_mlp_optuna.py is the same study written for Optuna, with this file's model
and training code.
"""
import argparse
import gzip
import pathlib
import time

import numpy as np
import torch
from torch import nn

DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")

# The search space, as a config file's `parameters:` (docs/config.md).
SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "scale": "log"},
    "hidden_units": {"type": "int", "low": 32, "high": 512, "scale": "log"},
    "hidden_layers": {"type": "int", "low": 1, "high": 3},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.05},
    "batch_size": {"type": "choice", "values": [32, 64, 128, 256]},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "scale": "log"},
}


def read_idx(path: pathlib.Path) -> np.ndarray:
    """An idx file (gzip), as numpy: images (n, 28*28) in [0, 1] or labels (n,)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    return array.reshape(shape[0], -1).astype(np.float32) / 255.0 if dims == 3 else array.astype(np.int64)


def load(data_dir: pathlib.Path, train_subset: int):
    """(train x, train y, validation x, validation y) as tensors."""
    x = torch.from_numpy(read_idx(data_dir / "train-images-idx3-ubyte.gz"))
    y = torch.from_numpy(read_idx(data_dir / "train-labels-idx1-ubyte.gz"))
    x_train, y_train, x_val, y_val = x[:50000], y[:50000], x[50000:], y[50000:]
    if train_subset:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    return x_train, y_train, x_val, y_val


def build(p: dict) -> nn.Module:
    layers, width = [], 28 * 28
    for _ in range(p["hidden_layers"]):
        layers += [nn.Linear(width, p["hidden_units"]), nn.ReLU(), nn.Dropout(p["dropout"])]
        width = p["hidden_units"]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def train(p: dict, data, epochs: int, seed: int, report) -> float:
    """Trains the MLP of params `p`; calls report(val_loss, epoch) after each epoch (which may
    raise to stop); returns the last val_loss."""
    x_train, y_train, x_val, y_val = data
    torch.manual_seed(seed)
    model = build(p)
    opt = torch.optim.AdamW(model.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    val_loss = float("nan")
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(x_train), p["batch_size"]):
            batch = order[start:start + p["batch_size"]]
            opt.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val).item()
        report(val_loss, epoch)
    return val_loss


def main():
    import caviar  # here, so that the Optuna version imports this file without caviar

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-subset", type=int, default=0, help="train on the first N images (0: 50,000)")
    parser.add_argument("--storage", default="sqlite:///fashion-py.db")
    parser.add_argument("--study", default="fashion-mlp-py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per trial")
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load(args.data, args.train_subset)

    study = caviar.Study(storage=args.storage, name=args.study, space=SPACE,
                         sampler={"name": "auto", "seed": args.seed},
                         pruner={"name": "median", "min_trials": 3, "warmup_steps": 1})

    def objective(trial: caviar.Trial) -> float:
        p = {
            "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            "hidden_units": trial.suggest_int("hidden_units", 32, 512, log=True),
            "hidden_layers": trial.suggest_int("hidden_layers", 1, 3),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5, step=0.05),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        }

        def report(val_loss: float, epoch: int) -> None:
            trial.report(val_loss, epoch)
            if trial.should_prune():
                raise caviar.TrialPruned()

        return train(p, data, args.epochs, args.seed + trial.number, report)

    start = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    trials = study.trials
    pruned = sum(t.state == caviar.TrialState.PRUNED for t in trials)
    print(f"{len(trials)} trials in the study ({pruned} pruned), {time.perf_counter() - start:.0f} s here")
    print(f"best: trial {study.best_trial.number}, val_loss {study.best_value:.4f}, {study.best_params}")


if __name__ == "__main__":
    main()
