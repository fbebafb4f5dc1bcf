#!/usr/bin/env python3
"""A stand-in training script that speaks caviar's trial protocol.

It reads its hyperparameters from the command line (caviar fills the {placeholders}),
"trains" for a few epochs on a noisy synthetic loss surface whose optimum sits at
lr = 3e-3, momentum = 0.97, batch_size = 128, hidden_units = 256, and prints one metric
line per epoch on stdout:   epoch=3 val_loss=0.3121 val_acc=0.884
"""
import argparse
import math
import os
import random
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--momentum", type=float, required=True)
p.add_argument("--batch-size", type=int, required=True)
p.add_argument("--units", type=int, required=True)
p.add_argument("--epochs", type=int, default=5)
p.add_argument("--epoch-seconds", type=float, default=0.05)
a = p.parse_args()

# Distance from the optimum, each hyperparameter on its own scale.
d = ((math.log10(a.lr) - math.log10(3e-3)) / 1.0) ** 2
d += ((math.log10(1 - a.momentum) - math.log10(0.03)) / 0.8) ** 2
d += ((math.log2(a.batch_size) - 7) / 3) ** 2
d += ((math.log2(a.units) - 8) / 4) ** 2
floor = 0.25 + 0.5 * (1 - math.exp(-d))

rng = random.Random(int(os.environ.get("CAVIAR_TRIAL", "0")))
loss = 2.3
for epoch in range(1, a.epochs + 1):
    time.sleep(a.epoch_seconds)
    loss = floor + (loss - floor) * 0.45 + rng.gauss(0, 0.003)
    acc = max(0.0, min(1.0, 1.0 - loss / 2.5))
    print(f"epoch={epoch} val_loss={loss:.5f} val_acc={acc:.4f}", flush=True)
    if a.lr > 0.5:
        print("loss diverged", file=sys.stderr)
        sys.exit(3)
