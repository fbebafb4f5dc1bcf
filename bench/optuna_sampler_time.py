"""Optuna's TPESampler: time per suggestion after N finished trials.

The same setup as bench_samplers.cpp's BM_Suggest: ackley5 (5 floats in [-32.768, 32.768]),
N complete trials at random points with their ackley values, then one ask() that samples
all 5 parameters, timed (wall and process CPU), repeated; the asked trial is told FAIL so
the history the sampler sees does not change. Defaults and multivariate=True.

    /usr/bin/python3 bench/optuna_sampler_time.py [--sizes 100,1000,10000] [--repeats 20]

(Debian's python3-optuna is Optuna 3.1; run with /usr/bin/python3.)
"""
import argparse
import math
import random
import statistics
import time
import warnings

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState


def ackley(x):
    d = len(x)
    s2 = sum(v * v for v in x)
    sc = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(s2 / d)) - math.exp(sc / d) + 20 + math.e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")

    dists = {"x%d" % i: FloatDistribution(-32.768, 32.768) for i in range(5)}
    print("Optuna %s TPESampler, ackley5, time per suggestion (median of repeats)" % optuna.__version__)
    print("| sampler | finished trials | repeats | wall ms | CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for multivariate in (False, True):
        for n in (int(s) for s in args.sizes.split(",")):
            rng = random.Random(12345)
            trials = []
            for _ in range(n):
                p = {k: rng.uniform(-32.768, 32.768) for k in dists}
                trials.append(optuna.trial.create_trial(
                    params=p, distributions=dists, value=ackley(list(p.values()))))
            sampler = optuna.samplers.TPESampler(seed=1, multivariate=multivariate)
            study = optuna.create_study(sampler=sampler)
            study.add_trials(trials)
            repeats = max(3, args.repeats if n <= 1000 else args.repeats // 4)
            wall, cpu = [], []
            for _ in range(repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                t = study.ask(dists)
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
                study.tell(t, state=TrialState.FAIL)
            name = "TPESampler(multivariate=True)" if multivariate else "TPESampler()"
            print("| %s | %d | %d | %.2f | %.2f |" % (name, n, repeats,
                                                     1e3 * statistics.median(wall),
                                                     1e3 * statistics.median(cpu)))


if __name__ == "__main__":
    main()
