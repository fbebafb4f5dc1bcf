#!/usr/bin/env python3
"""A bounded chaos run of `caviar tune` (issue 29, item 9).

Several `caviar tune` processes share one study. At random moments the script SIGKILLs one
of them and starts it again at once, as a user would ("kill it and run it again"); on
PostgreSQL it also restarts the server (`pg_ctl restart`, -m fast, then -m immediate, ...)
and, while the server is down, kills one more caviar, whose successor then meets no server.
A caviar that exits by itself with an error is started again 0.25 s later; on SQLite any
such exit is a failure, on PostgreSQL only one that exits 2 naming PostgreSQL is allowed.
Once the kills are done it lets the processes run the budget out and then checks what
caviar promises:

  * the study holds exactly the budget of counted trials (complete, pruned, and failed
    trials not marked `caviar:uncounted`: see docs/config.md#budget);
  * trial numbers are unique and run 0..n-1 without a gap (read from the tables
    themselves, with Python's sqlite3 module or psql, and through `caviar trials`);
  * no trial is left RUNNING (or WAITING);
  * no process is left: no caviar, no caviar-reaper, no trial process (every process the
    run started carries CHAOS_RUN=<token> in its environment), and none of the processes
    that descended from a killed caviar (snapshotted just before each kill).

It prints a summary table and exits 1 if an invariant fails (2 on a usage or setup error).
Only the Python 3 standard library and, for PostgreSQL, the server's own binaries
(initdb, pg_ctl) and psql are used. As root, the server runs as the `postgres` user.

    scripts/chaos.py build/caviar                      # 50 kills on SQLite, 10 + 2 restarts on PostgreSQL
    scripts/chaos.py build/caviar --pg-kills 0 --pg-restarts 0 --sqlite-kills 5 --sqlite-budget 60
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

# -------------------------------------------------------------------- the trial

TRIAL = r'''
import os, random, subprocess, sys, time
rng = random.Random(os.environ["CAVIAR_TRIAL"] + "/" + os.environ["CHAOS_RUN"])
x = float(os.environ["CAVIAR_PARAM_X"])
if rng.random() < 0.1:
    # A daemon that leaves the trial's process group: only the trial tag finds it.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
total = rng.uniform(0.05, 0.5)
steps = rng.choice([1, 1, 2, 3, 4])
with_step = rng.random() < 0.7
for s in range(1, steps + 1):
    time.sleep(total / steps)
    loss = (x - 0.3) ** 2 + 1.0 / s + rng.uniform(0, 0.05)
    print(f"epoch={s} loss={loss:.6f}" if with_step else f"loss={loss:.6f}", flush=True)
if rng.random() < 0.05:
    print("chaos: a planned failure", file=sys.stderr)
    sys.exit(3)
'''

CONFIG = '''study: chaos
metric: loss
objective:
  command: [{python}, {trial}]
  grace: 1s
  env: {{CHAOS_RUN: "{token}"}}
parameters:
  x: {{type: float, low: 0.0, high: 1.0}}
  n: {{type: int, low: 1, high: 8}}
sampler: {{name: random}}
pruner: {{name: median, min_trials: 5}}
budget: {{trials: {budget}, parallel: {parallel}}}
trial_dir: {trial_dir}
'''

# -------------------------------------------------------------------- processes


def proc_stat(pid):
    """(state, ppid, start time) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def alive(pid, start):
    s = proc_stat(pid)
    return s is not None and s[2] == start and s[0] not in ("Z", "X")


def descendants(root):
    """Every live descendant of `root` as (pid, start time, name)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s and s[0] not in ("Z", "X"):
                children.setdefault(s[1], []).append((int(d), s[2]))
    out, todo = [], [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            out.append((pid, start, name_of(pid)))
            todo.append(pid)
    return out


def name_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return "?"


def tagged_processes(token):
    """Live processes (not this script) whose environment holds CHAOS_RUN=token."""
    needle = f"CHAOS_RUN={token}".encode() + b"\0"
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read() + b"\0"
        except OSError:
            continue
        s = proc_stat(int(d))
        if (b"\0" + env).find(b"\0" + needle) >= 0 and s and s[0] not in ("Z", "X"):
            out.append((int(d), name_of(int(d))))
    return out


def poll_until(condition, timeout, interval=0.05):
    """Polls `condition` until it is true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# -------------------------------------------------------------------- PostgreSQL


class Postgres:
    """A throwaway cluster on a Unix socket in a temporary folder, as scripts/test.sh starts."""

    def __init__(self, workdir):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
        if not bins or not os.access(f"{bins[-1]}/initdb", os.X_OK):
            raise SystemExit("chaos: PostgreSQL's initdb not found; run scripts/setup.sh")
        self.bin = bins[-1]
        self.dir = os.path.join(workdir, "pg")
        os.mkdir(self.dir)
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.env = dict(os.environ, PGHOST=self.dir, PGUSER="caviar")
        self.run("initdb", "-D", self.data, "-U", "caviar", "--auth=trust", "-E", "UTF8")
        self.options = f"-k {self.dir} -c listen_addresses= -c fsync=off -c max_connections=100"
        self.run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", self.options, "start")
        subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", "CREATE DATABASE chaos"], env=self.env, check=True)

    def run(self, tool, *args):
        cmd = [f"{self.bin}/{tool}", *args]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} failed ({r.returncode}): {r.stdout[-2000:]}")

    def restart_async(self, mode):
        """Starts `pg_ctl restart`; returns its process (it exits once the server is back)."""
        cmd = [f"{self.bin}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-m", mode,
               "-o", self.options, "restart"]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready(self):
        return subprocess.run([f"{self.bin}/pg_isready", "-q", "-h", self.dir], env=self.env).returncode == 0

    def stop(self):
        try:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        except RuntimeError:
            pass

    def rows(self, sql):
        r = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-d", "chaos", "-c", sql], env=self.env,
                           check=True, stdout=subprocess.PIPE, text=True)
        return [line.split("\t") for line in r.stdout.splitlines() if line]


# -------------------------------------------------------------------- one chaos run


class Run:
    def __init__(self, args, store, workdir, kills, restarts, budget, pg=None):
        self.args, self.store, self.kills, self.restarts, self.budget, self.pg = args, store, kills, restarts, budget, pg
        self.rng = random.Random(f"{args.seed}/{store}")
        self.dir = os.path.join(workdir, store)
        os.mkdir(self.dir)
        self.token = f"{os.getpid()}-{store}-{args.seed}"
        self.trial_dir = os.path.join(self.dir, "runs")
        with open(os.path.join(self.dir, "trial.py"), "w") as f:
            f.write(TRIAL)
        self.config = os.path.join(self.dir, "study.yaml")
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        with open(self.config, "w") as f:
            f.write(CONFIG.format(python=python, trial=os.path.join(self.dir, "trial.py"), token=self.token,
                                  budget=budget, parallel=args.parallel, trial_dir=self.trial_dir))
        if pg:
            self.url = "postgresql:///chaos"
            self.env = dict(pg.env)
        else:
            self.url = f"sqlite:///{os.path.join(self.dir, 'chaos.db')}"
            self.env = dict(os.environ)
        self.env["CHAOS_RUN"] = self.token
        self.procs = [None] * args.processes
        self.again_at = [None] * args.processes  # when to start a slot whose caviar failed
        self.starts = 0
        self.exits = []          # (slot, exit code, last stderr line) of exits the script did not cause
        self.watched = []        # (pid, start, name) of a killed caviar's descendants
        self.orphan_seconds = 0.0  # the longest a killed caviar's trial process outlived it
        self.reaper_seconds = 0.0  # the longest its caviar-reaper did (SIGTERM, 2 s, SIGKILL, exit)
        self.events = []

    def log(self, what):
        line = f"[{time.monotonic() - self.t0:7.2f}s {self.store}] {what}"
        self.events.append(line)
        if self.args.verbose:
            print(line, flush=True)

    def start(self, slot):
        err = open(os.path.join(self.dir, f"caviar-{slot}.log"), "a")
        out = open(os.path.join(self.dir, f"caviar-{slot}.out"), "a")
        self.procs[slot] = subprocess.Popen([self.args.caviar, "tune", self.config, "--storage", self.url, "-q"],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env)
        err.close()
        out.close()
        self.starts += 1

    def started_trials(self):
        try:
            return len(os.listdir(self.trial_dir))
        except FileNotFoundError:
            return 0

    def reap_exits(self, restart):
        """Notes processes that exited by themselves. One that failed is started again a
        quarter of a second later, as a user would; one that finished cleanly only while
        the chaos lasts (`restart`)."""
        now = time.monotonic()
        for slot, p in enumerate(self.procs):
            if p is None:
                if self.again_at[slot] is not None and now >= self.again_at[slot]:
                    self.again_at[slot] = None
                    self.start(slot)
                    self.log(f"caviar {slot} started again (pid {self.procs[slot].pid})")
                continue
            if p.poll() is None:
                continue
            self.procs[slot] = None
            if p.returncode != 0:
                last = self.last_error(slot)
                self.exits.append((slot, p.returncode, last))
                self.log(f"caviar {slot} (pid {p.pid}) exited {p.returncode}: {last}")
            else:
                self.log(f"caviar {slot} (pid {p.pid}) finished")
            if restart or p.returncode != 0:
                self.again_at[slot] = now + (0.25 if p.returncode != 0 else 0)

    def tick(self, restart):
        self.reap_exits(restart)
        self.check_orphans()
        if time.monotonic() > self.deadline:
            raise TimeoutError(f"{self.store}: still running after {self.args.timeout} s")
        time.sleep(0.02)

    def last_error(self, slot):
        try:
            with open(os.path.join(self.dir, f"caviar-{slot}.log"), errors="replace") as f:
                lines = [line.strip() for line in f if line.strip()]
            return lines[-1][:300] if lines else ""
        except OSError:
            return ""

    def kill_one(self):
        running = [s for s, p in enumerate(self.procs) if p is not None and p.poll() is None]
        if not running:
            return False
        slot = self.rng.choice(running)
        p = self.procs[slot]
        family = descendants(p.pid)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.procs[slot] = None
        killed_at = time.monotonic()
        self.watched += [(pid, start, name, killed_at) for pid, start, name in family]
        self.log(f"SIGKILL caviar {slot} (pid {p.pid}, {len(family)} descendants), "
                 f"{self.started_trials()} trials started")
        self.start(slot)
        return True

    def check_orphans(self):
        now = time.monotonic()
        left = []
        for pid, start, name, killed_at in self.watched:
            if alive(pid, start):
                left.append((pid, start, name, killed_at))
            elif name.startswith(self.args.caviar + " "):  # the caviar-reaper (a fork of caviar)
                self.reaper_seconds = max(self.reaper_seconds, now - killed_at)
            else:  # a trial's process
                self.orphan_seconds = max(self.orphan_seconds, now - killed_at)
        self.watched = left

    def go(self):
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.args.timeout
        # Random moments, placed by progress (trials started) so that every one falls
        # inside the run, plus a random delay so that a kill lands anywhere in a trial's
        # life or in caviar's start-up. On PostgreSQL one kill per server restart is kept
        # for the outage itself: its caviar starts again while the server is down.
        outage_kills = min(self.kills, self.restarts)
        span = range(max(1, self.budget * 3 // 100), max(self.budget * 85 // 100, self.kills + self.restarts + 2))
        moments = [(m, "kill") for m in self.rng.choices(span, k=self.kills - outage_kills)]
        lo, hi = self.budget * 20 // 100, self.budget * 80 // 100
        moments += [(self.rng.randint(lo, max(lo, hi)), "restart") for _ in range(self.restarts)]
        moments.sort()
        for slot in range(self.args.processes):
            self.start(slot)
        kills = restarts = 0
        server = None  # the pg_ctl restart under way
        for at, what in moments:
            while self.started_trials() < at and any(p is not None for p in self.procs):
                self.tick(restart=True)
            pause_until = time.monotonic() + self.rng.uniform(0, 0.5)
            while time.monotonic() < pause_until:
                self.tick(restart=True)
            if what == "kill":
                kills += self.kill_one()
                continue
            while server is not None and server.poll() is None:
                self.tick(restart=True)
            mode = "fast" if restarts % 2 == 0 else "immediate"
            self.log(f"PostgreSQL restart (-m {mode}) at {self.started_trials()} trials started")
            server = self.pg.restart_async(mode)
            restarts += 1
            went = time.monotonic()
            while self.pg.ready() and time.monotonic() - went < 30:
                self.tick(restart=True)
            self.log("PostgreSQL is down")
            if outage_kills:
                outage_kills -= 1
                kills += self.kill_one()
        while server is not None and server.poll() is None:
            self.tick(restart=True)
        if server is not None:
            self.log(f"PostgreSQL is back (pg_ctl restart exited {server.returncode})")
            if server.returncode != 0:
                raise RuntimeError(f"pg_ctl restart failed; see {self.pg.log}")
        self.log(f"chaos over: {kills} kills, {restarts} server restarts; letting the processes finish")
        while any(p is not None for p in self.procs) or any(t is not None for t in self.again_at):
            self.tick(restart=False)
        self.wall = time.monotonic() - self.t0
        # Whatever a killed caviar left has its reaper's 2 s between SIGTERM and SIGKILL.
        poll_until(lambda: (self.check_orphans(), not self.watched)[1], 10)
        poll_until(lambda: not tagged_processes(self.token), 10)
        self.left = tagged_processes(self.token)
        self.done_kills, self.done_restarts = kills, restarts
        return self.verify()

    # ---------------------------------------------------------------- the invariants

    def raw_trials(self):
        """(number, state) of every trial of the study, straight from Optuna's tables."""
        sql = ("SELECT t.number, t.state FROM trials t JOIN studies s ON s.study_id = t.study_id "
               "WHERE s.study_name = 'chaos' ORDER BY t.number")
        if self.pg:
            return [(int(n), s) for n, s in self.pg.rows(sql)]
        with sqlite3.connect(f"file:{os.path.join(self.dir, 'chaos.db')}?mode=ro", uri=True) as db:
            return [(int(n), s) for n, s in db.execute(sql)]

    def verify(self):
        listing = subprocess.run([self.args.caviar, "trials", "--storage", self.url, "--study", "chaos",
                                  "--format", "json"], env=self.env, stdout=subprocess.PIPE, check=True).stdout
        trials = json.loads(listing)
        raw = self.raw_trials()
        states = {}
        uncounted = {}
        other_failures = {}
        counted = 0
        for t in trials:
            is_uncounted = t["state"] == "failed" and t["system_attrs"].get("caviar:uncounted") is True
            if is_uncounted:
                reason = (t.get("reason") or "")
                kind = ("dead owner" if "its owner" in reason else "no heartbeat" if reason.startswith("stale")
                        else "interrupted" if reason.startswith("interrupted") else reason[:60])
                uncounted[kind] = uncounted.get(kind, 0) + 1
            else:
                states[t["state"]] = states.get(t["state"], 0) + 1
                if t["state"] in ("complete", "pruned", "failed"):
                    counted += 1
                if t["state"] == "failed" and "planned failure" not in (t.get("reason") or ""):
                    other_failures[t["number"]] = (t.get("reason") or "")[:200]
        numbers = [n for n, _ in raw]
        self.result = {
            "store": self.store,
            "kills": self.done_kills,
            "restarts": self.done_restarts,
            "budget": self.budget,
            "counted": counted,
            "complete": states.get("complete", 0),
            "pruned": states.get("pruned", 0),
            "failed": states.get("failed", 0),
            "uncounted": uncounted,
            "trials": len(raw),
            "numbers_ok": numbers == list(range(len(numbers))) and
                          sorted(t["number"] for t in trials) == numbers,
            "running": sum(1 for _, s in raw if s in ("RUNNING", "WAITING")),
            "left": len(self.left) + len(self.watched),
            "orphan_s": self.orphan_seconds,
            "reaper_s": self.reaper_seconds,
            "exits": self.exits,
            "starts": self.starts,
            "wall": self.wall,
        }
        problems = []
        r = self.result
        if r["kills"] != self.kills:
            problems.append(f"only {r['kills']} of {self.kills} kills happened: the budget ran out first (raise it)")
        if r["restarts"] != self.restarts:
            problems.append(f"only {r['restarts']} of {self.restarts} server restarts happened")
        if counted != self.budget:
            problems.append(f"{counted} counted trials, budget {self.budget}")
        if not r["numbers_ok"]:
            dup = sorted({n for n in numbers if numbers.count(n) > 1})
            problems.append(f"trial numbers are not 0..{len(numbers) - 1} once each (duplicates: {dup[:20]})")
        if r["running"]:
            problems.append(f"{r['running']} trials left running or waiting")
        if len(raw) != len(trials):
            problems.append(f"`caviar trials` lists {len(trials)} trials, the table holds {len(raw)}")
        for pid, name in self.left:
            problems.append(f"process left: {pid} {name}")
        for pid, _, name, _ in self.watched:
            problems.append(f"a killed caviar's descendant is still alive: {pid} {name}")
        self.other_failures = other_failures  # shown, not an invariant: a trial may fail
        for slot, code, last in self.exits:
            # On PostgreSQL a caviar started while the server is down says so and exits 2.
            if not self.pg or code != 2 or "PostgreSQL" not in last:
                problems.append(f"caviar {slot} exited {code} by itself: {last}")
        self.problems = problems
        return not problems


def table(results):
    head = ["store", "kills", "restarts", "budget", "complete", "pruned", "failed", "uncounted (why)",
            "numbers 0..n-1", "running left", "processes left", "trials gone / reaper gone after kill", "own exits", "wall"]
    rows = []
    for r in results:
        why = ", ".join(f"{n} {k}" for k, n in sorted(r["uncounted"].items())) or "0"
        rows.append([r["store"], str(r["kills"]), str(r["restarts"]), str(r["budget"]), str(r["complete"]),
                     str(r["pruned"]), str(r["failed"]), why,
                     f"{'yes' if r['numbers_ok'] else 'NO'} (n={r['trials']})", str(r["running"]),
                     str(r["left"]), f"{r['orphan_s']:.1f} s / {r['reaper_s']:.1f} s", str(len(r["exits"])), f"{r['wall']:.0f} s"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("caviar", help="the caviar binary (e.g. build/caviar)")
    ap.add_argument("--sqlite-kills", type=int, default=50, help="SIGKILLs on the SQLite run (default 50; 0 skips it)")
    ap.add_argument("--pg-kills", type=int, default=10, help="SIGKILLs on the PostgreSQL run (default 10)")
    ap.add_argument("--pg-restarts", type=int, default=2,
                    help="server restarts on the PostgreSQL run, alternately -m fast and -m immediate (default 2; "
                         "the run is skipped when this and --pg-kills are 0)")
    ap.add_argument("--processes", type=int, default=4, help="caviar tune processes sharing the study (default 4)")
    ap.add_argument("--parallel", type=int, default=2, help="trials at a time in each process (default 2)")
    ap.add_argument("--sqlite-budget", type=int, default=400, help="the SQLite study's budget (default 400)")
    ap.add_argument("--pg-budget", type=int, default=150, help="the PostgreSQL study's budget (default 150)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the kill moments and victims (default 1)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds one run may take (default 600)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases) and print it")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every kill, restart and exit as it happens")
    args = ap.parse_args()
    args.caviar = os.path.abspath(args.caviar)
    if not os.access(args.caviar, os.X_OK):
        ap.error(f"{args.caviar} is not an executable")
    if args.processes < 1 or min(args.sqlite_kills, args.pg_kills, args.pg_restarts) < 0:
        ap.error("--processes must be at least 1 and the counts non-negative")

    workdir = tempfile.mkdtemp(prefix="caviar-chaos-")
    os.chmod(workdir, 0o755)
    runs, pg = [], None
    ok = True
    try:
        if args.sqlite_kills:
            runs.append(Run(args, "sqlite", workdir, args.sqlite_kills, 0, args.sqlite_budget))
            ok &= runs[-1].go()
        if args.pg_kills or args.pg_restarts:
            pg = Postgres(workdir)
            runs.append(Run(args, "postgresql", workdir, args.pg_kills, args.pg_restarts, args.pg_budget, pg))
            ok &= runs[-1].go()
    except TimeoutError as e:
        print(f"chaos: FAILED: {e}")
        for line in runs[-1].events[-30:]:
            print(line)
        ok = False
    finally:
        for run in runs:
            for p in run.procs:
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
        if pg:
            pg.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table([run.result for run in runs if hasattr(run, "result")]))
    for run in runs:
        for slot, code, last in run.exits:
            print(f"{run.store}: caviar {slot} exited {code} by itself: {last}")
        for number, reason in getattr(run, "other_failures", {}).items():
            print(f"{run.store}: note: trial #{number} failed for another reason than the planned one: {reason}")
        for p in getattr(run, "problems", []):
            print(f"{run.store}: FAILED: {p}")
    if args.keep:
        print(f"work folder kept: {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
