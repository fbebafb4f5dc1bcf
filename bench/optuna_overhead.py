#!/usr/bin/python3
"""Optuna's overhead on the cases of bench_overhead.cpp, for a side-by-side ratio.

Trials per second of a trivial objective (sum of squares of 5 floats in [-10, 10]) with
RandomSampler, Optuna as installed (Debian's python3-optuna 3.1):

  memory               in-memory storage, 1 thread            (default 10,000 trials)
  sqlite-disk-1proc    SQLite file in DIR, 1 process          (default 2,000 trials)
  sqlite-disk-2procs   one study from 2 processes together    (2,000 in all: 1,000 each)
  sqlite-shm-1proc     SQLite file in /dev/shm, 1 process
  sqlite-shm-2procs    SQLite file in /dev/shm, 2 processes

Usage: /usr/bin/python3 bench/optuna_overhead.py [--memory-trials N] [--sqlite-trials N]
                                                 [--dir DIR] [--no-shm] [--wal]

--wal gives Optuna's SQLite connections caviar's durability (journal_mode=WAL,
synchronous=NORMAL: a commit survives a crash of the process, not a power cut) instead of
SQLite's default rollback journal with synchronous=FULL, so both sides do the same work.
Prints a markdown table: case, trials, seconds, trials/s.
"""
import argparse
import multiprocessing
import os
import time

import optuna
import sqlalchemy

STUDY = "overhead"


def objective(trial):
    return sum(trial.suggest_float(f"x{i}", -10, 10) ** 2 for i in range(5))


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def run_memory(n):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    start = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - start


def run_sqlite_1proc(path, n):
    remove_db(path)
    url = "sqlite:///" + os.path.abspath(path)
    start = time.perf_counter()
    study = optuna.create_study(study_name=STUDY, storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(objective, n_trials=n)
    seconds = time.perf_counter() - start
    assert len(study.trials) == n
    remove_db(path)
    return seconds


def _worker(url, n, seed):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=STUDY, storage=url,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n)


def run_sqlite_procs(path, n, procs):
    remove_db(path)
    url = "sqlite:///" + os.path.abspath(path)
    optuna.create_study(study_name=STUDY, storage=url)  # the file and the study exist first
    ctx = multiprocessing.get_context("fork")
    start = time.perf_counter()
    workers = [ctx.Process(target=_worker, args=(url, n // procs, i + 1)) for i in range(procs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        assert w.exitcode == 0, f"worker exited with {w.exitcode}"
    seconds = time.perf_counter() - start
    study = optuna.load_study(study_name=STUDY, storage=url)
    numbers = [t.number for t in study.trials]
    assert len(numbers) == n and sorted(numbers) == list(range(n)), "bad trial numbers"
    remove_db(path)
    return seconds


def use_wal():
    """Every SQLite connection SQLAlchemy opens from now on: WAL, synchronous=NORMAL."""
    def pragmas(connection, _record):
        if type(connection).__module__.startswith("sqlite3"):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", pragmas)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-trials", type=int, default=10000)
    parser.add_argument("--sqlite-trials", type=int, default=2000)
    parser.add_argument("--dir", default="optuna-bench-overhead")
    parser.add_argument("--no-shm", action="store_true")
    parser.add_argument("--wal", action="store_true",
                        help="SQLite in WAL with synchronous=NORMAL, as caviar's")
    args = parser.parse_args()
    if args.wal:
        use_wal()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.makedirs(args.dir, exist_ok=True)
    disk = os.path.join(args.dir, "overhead.db")
    rows = [("memory", args.memory_trials, run_memory(args.memory_trials))]
    rows.append(("sqlite-disk-1proc", args.sqlite_trials, run_sqlite_1proc(disk, args.sqlite_trials)))
    rows.append(("sqlite-disk-2procs", args.sqlite_trials, run_sqlite_procs(disk, args.sqlite_trials, 2)))
    if not args.no_shm and os.path.isdir("/dev/shm"):
        shm = f"/dev/shm/optuna-overhead-{os.getpid()}.db"
        rows.append(("sqlite-shm-1proc", args.sqlite_trials, run_sqlite_1proc(shm, args.sqlite_trials)))
        rows.append(("sqlite-shm-2procs", args.sqlite_trials, run_sqlite_procs(shm, args.sqlite_trials, 2)))
    try:
        os.rmdir(args.dir)
    except OSError:
        pass
    print(f"Optuna {optuna.__version__} (Python), RandomSampler, objective: sum of squares of 5 floats; "
          f"SQLite {'WAL, synchronous=NORMAL' if args.wal else 'rollback journal, synchronous=FULL (defaults)'}\n")
    print("| case | trials | seconds | trials/s |\n|---|---:|---:|---:|")
    for name, n, seconds in rows:
        print(f"| {name} | {n} | {seconds:.3f} | {n / seconds:.1f} |")


if __name__ == "__main__":
    main()
