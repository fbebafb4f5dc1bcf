#!/usr/bin/env python3
"""The dashboard at scale (issue 30; docs/benchmarks.md, "Dashboard").

1. A 100,000-trial study (bench_dashboard_study, through caviar's SQLite store) served by
   `caviar dashboard`: the time of its first page in headless Chromium on a fresh server
   (the server reads the whole study then) and on a warm one, the API's answers on it, and
   the server's memory (VmRSS and VmHWM from /proc).
2. Tuner throughput, with and without 10 open pages: `caviar tune` of a quick command
   objective (sh printing a value: about what the tuner itself costs per trial), 2 at a
   time, on SQLite; runs alternate without / with a `caviar dashboard` on its store and 10
   pages of the study open in one Chromium, drawn before the tuner starts. Trials per
   second of each run; the ratio of the medians.

Usage:
  bench/dashboard_scale.py --caviar build/caviar --maker build/bench/bench_dashboard_study \
      [--trials 100000] [--work DIR] [--tune-trials 600] [--runs 3]
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import urllib.request

SOURCE = pathlib.Path(__file__).resolve().parent.parent


def get(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
    return time.perf_counter() - start, body


def memory_kib(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}


def start_dashboard(caviar, db):
    p = subprocess.Popen([caviar, "dashboard", "--storage", f"sqlite:///{db}", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not m:
        p.kill()
        sys.exit(f"caviar dashboard printed no URL: {line}{p.stderr.read()}")
    return p, m.group(0)


def open_pages(url, n):
    """Chromium with n pages on url; returns (process, ready_ms list)."""
    p = subprocess.Popen(["node", str(SOURCE / "bench" / "dashboard_pages.mjs"), str(SOURCE), url, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = json.loads(p.stdout.readline())
    if first["errors"]:
        print("page errors:", first["errors"][:3], file=sys.stderr)
    return p, first["ready_ms"]


def close_pages(p):
    p.stdin.close()
    last = json.loads(p.stdout.readline())
    p.wait()
    return last["updates"]


def scale(args, work):
    db = work / "big.db"
    if not db.exists():
        subprocess.run([args.maker, "--out", str(db), "--trials", str(args.trials)], check=True)
    print(f"## A {args.trials:,}-trial study ({db.stat().st_size / 2**20:.0f} MiB SQLite file)\n")
    rows = []
    server, base = start_dashboard(args.caviar, db)
    try:
        pages, ready = open_pages(f"{base}/study/1", 1)
        close_pages(pages)
        rows.append(("study page in Chromium, fresh server (reads the study)", ready[0] / 1000))
        cold_mem = memory_kib(server.pid)
        pages, ready = open_pages(f"{base}/study/1", 1)
        close_pages(pages)
        rows.append(("study page in Chromium, again", ready[0] / 1000))
        for name, path in [("GET /api/study/1 (the page's data)", "/api/study/1"),
                           ("GET /api/study/1/trials?sort=value&desc=1 (a table page)",
                            "/api/study/1/trials?sort=value&desc=1&limit=50"),
                           ("GET /api/study/1/trials?param=alpha&min=0.001&max=0.01&sort=units",
                            "/api/study/1/trials?param=alpha&min=0.001&max=0.01&sort=units"),
                           ("GET /api/study/1/changes?since=1", "/api/study/1/changes?since=1"),
                           ("GET /api/study/1/trial/99999", "/api/study/1/trial/99999")]:
            times, size = [], 0
            for _ in range(5):
                t, body = get(base + path)
                times.append(t)
                size = len(body)
            rows.append((f"{name}, median of 5 ({size / 1024:.0f} KiB)", statistics.median(times)))
        mem = memory_kib(server.pid)
    finally:
        server.terminate()
        server.wait()
    print("| what | seconds |\n|---|---:|")
    for name, s in rows:
        print(f"| {name} | {s:.3f} |")
    print(f"\nserver memory: {mem['VmRSS'] / 1024:.0f} MiB resident at the end, "
          f"{mem['VmHWM'] / 1024:.0f} MiB at its peak (after the first page: "
          f"{cold_mem['VmRSS'] / 1024:.0f} MiB)\n")


TUNE_CONFIG = """study: {study}
storage: sqlite:///tune.db
metric: loss
objective:
  command: [sh, -c, 'echo "loss=$CAVIAR_PARAM_X"']
parameters:
  x: {{type: float, low: 0, high: 1}}
  y: {{type: float, low: 1.0e-4, high: 1, scale: log}}
sampler: {{name: random, seed: 1}}
budget: {{trials: {trials}, parallel: 2}}
"""


def tune_run(args, work, k, pages):
    """One `caviar tune` of a fresh study; with `pages`, a `caviar dashboard` on its store and
    that many pages of the study open (and drawn) before the tuner starts."""
    study = f"run-{k}"
    cfg = work / f"{study}.yaml"
    cfg.write_text(TUNE_CONFIG.format(study=study, trials=args.tune_trials + 1))
    # The study exists (one trial) before the pages open on it.
    run = lambda *a: subprocess.run([args.caviar, *a], cwd=work, check=True, capture_output=True, text=True)
    number = json.loads(run("ask", str(cfg), "--format", "json").stdout)["number"]
    run("tell", str(cfg), "--trial", str(number), "--value", "0.5")
    server = browser = ready = updates = None
    if pages:
        server, base = start_dashboard(args.caviar, work / "tune.db")
        _, body = get(base + "/api/studies")
        sid = [s["id"] for s in json.loads(body)["studies"] if s["name"] == study][0]
        browser, ready = open_pages(f"{base}/study/{sid}", pages)
    start = time.perf_counter()
    p = subprocess.run([args.caviar, "tune", str(cfg), "-q"], cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"caviar tune failed: {p.stderr}")
    if browser:
        updates = close_pages(browser)
        server.terminate()
        server.wait()
    return args.tune_trials / seconds, ready, updates


def throughput(args, work):
    print(f"## Tuner throughput with and without 10 open pages ({args.tune_trials} trials, 2 at a time)\n")
    print("| run | pages | trials/s | pages ready, s (max) | live versions per page (min) |\n|---|---:|---:|---:|---:|")
    without, with_pages = [], []
    for k in range(args.runs * 2):
        pages = 10 if k % 2 else 0
        rate, ready, updates = tune_run(args, work, k, pages)
        (with_pages if pages else without).append(rate)
        print(f"| {k + 1} | {pages} | {rate:.1f} | {max(ready) / 1000 if ready else '':} | "
              f"{min(updates) if updates else ''} |", flush=True)
    a, b = statistics.median(without), statistics.median(with_pages)
    print(f"\nmedian trials/s: {a:.1f} without pages, {b:.1f} with 10 pages: "
          f"{100 * (1 - b / a):.1f} % slower (goal: under 5 %)\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--caviar", required=True)
    ap.add_argument("--maker", required=True, help="build/bench/bench_dashboard_study")
    ap.add_argument("--trials", type=int, default=100000)
    ap.add_argument("--work", default="caviar-bench-dashboard")
    ap.add_argument("--tune-trials", type=int, default=1200)
    ap.add_argument("--runs", type=int, default=3, help="runs each, without and with pages")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    args.caviar = os.path.abspath(args.caviar)
    args.maker = os.path.abspath(args.maker)
    work = pathlib.Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not args.skip_scale:
        scale(args, work)
    if not args.skip_throughput:
        throughput(args, work)


if __name__ == "__main__":
    main()
