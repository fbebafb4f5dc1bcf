#!/usr/bin/python3
"""The study of fashion_mnist_mlp.py written for Optuna: the same model, data and training
(imported from it), Optuna's TPESampler and MedianPruner. Pass --caviar-sampler to run it
with caviar's AutoSampler inside Optuna (caviar.optuna) instead.

    /usr/bin/python3 examples/python/fashion_mnist_mlp_optuna.py --trials 20 --epochs 8
    PYTHONPATH=build/python /usr/bin/python3 examples/python/fashion_mnist_mlp_optuna.py --caviar-sampler
"""
import argparse
import pathlib
import sys
import time

import optuna
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fashion_mnist_mlp import DATA, load, train  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-subset", type=int, default=0, help="train on the first N images (0: 50,000)")
    parser.add_argument("--storage", default=None, help="an RDB URL (default: in memory)")
    parser.add_argument("--study", default="fashion-mlp-optuna")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per trial")
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    parser.add_argument("--caviar-sampler", action="store_true", help="caviar.optuna.AutoSampler")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load(args.data, args.train_subset)

    if args.caviar_sampler:
        from caviar.optuna import AutoSampler
        sampler = AutoSampler(seed=args.seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=args.seed)
    study = optuna.create_study(storage=args.storage, study_name=args.study, load_if_exists=True,
                                sampler=sampler,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))

    def objective(trial: optuna.Trial) -> float:
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
                raise optuna.TrialPruned()

        return train(p, data, args.epochs, args.seed + trial.number, report)

    start = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    print(f"{len(study.trials)} trials in the study ({pruned} pruned), {time.perf_counter() - start:.0f} s here")
    print(f"best: trial {study.best_trial.number}, val_loss {study.best_value:.4f}, {study.best_params}")


if __name__ == "__main__":
    main()
