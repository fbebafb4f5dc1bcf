#!/usr/bin/env python3
"""Checks that every #include in caviar's sources runs down the floors, never up.

caviar is built in floors (docs/architecture.md), each using only those below it:

    0 base        src/base        error, formatting, random numbers
    1 nn          src/nn          the built-in trainer (uses base only)
    2 model       src/model       search space, scales, trials
    3 algorithms  src/algorithms  samplers, pruners, schedulers
    4 storage     src/storage     memory, SQLite, PostgreSQL; Optuna's format
    5 study       src/study       Study, StudyView, the config reader and writer, export
    6 analysis    src/analysis    importance, report
    7 run         src/run         the tuner and its parts, executors
    8 apps        apps, python    the command line; the Python module (public headers only)

A public header (include/caviar/X.h) belongs to the floor named for it below. A file may
include headers of its own floor and of the floors below. Prints every include that runs
upward, or that names a caviar header this table does not place, and exits 1 if there is
one; prints a one-line summary and exits 0 otherwise.

Usage: scripts/check_floors.py [SOURCE_DIR]
"""
import pathlib
import re
import sys

FLOORS = ["base", "nn", "model", "algorithms", "storage", "study", "analysis", "run", "apps"]

PUBLIC = {
    "error.h": "base",
    "nn.h": "nn",
    "space.h": "model", "trial.h": "model", "attributes.h": "model",
    "sampler.h": "algorithms", "pruner.h": "algorithms", "pbt.h": "algorithms", "babysit.h": "algorithms",
    "zoom.h": "algorithms",
    "storage.h": "storage",
    "study.h": "study", "study_view.h": "study", "config.h": "study", "export.h": "study",
    "objective.h": "study", "retune.h": "study",
    "importance.h": "analysis", "report.h": "analysis", "dashboard.h": "analysis", "compare.h": "analysis",
    "executor.h": "run", "tuner.h": "run",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def floor_of_path(rel):
    """The floor of a file, by its path relative to the source root; None if unplaced."""
    parts = rel.parts
    if parts[0] == "include" and len(parts) == 3 and parts[1] == "caviar":
        return PUBLIC.get(parts[2])
    if parts[0] == "src" and len(parts) >= 3 and parts[1] in FLOORS:
        return parts[1]
    if parts[0] in ("apps", "python"):
        return "apps"
    return None


def floor_of_include(name, including, root):
    """The floor of an included header as written: "caviar/x.h", "floor/...", or a header
    beside the including file."""
    path = pathlib.PurePosixPath(name)
    if path.parts[0] == "caviar":
        return PUBLIC.get(path.name), f"include/{name}"
    if path.parts[0] in FLOORS and (root / "src" / name).exists():
        return path.parts[0], f"src/{name}"
    beside = including.parent / name
    if (root / beside).exists():
        return floor_of_path(beside), str(beside)
    return None, name


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = [p for d in ("include", "src", "apps", "python") for p in (root / d).rglob("*")
             if p.suffix in (".h", ".cpp")]
    problems, checked = [], 0
    for path in sorted(files):
        rel = path.relative_to(root)
        own = floor_of_path(rel)
        if own is None:
            problems.append(f"{rel}: not on any floor (add it to scripts/check_floors.py)")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            checked += 1
            if rel.parts[0] == "python" and not m.group(1).startswith("caviar/"):
                problems.append(f"{rel}:{number}: includes {m.group(1)}: the Python module "
                                f"uses caviar's public headers (caviar/...) only")
                continue
            target, shown = floor_of_include(m.group(1), rel, root)
            if target is None:
                problems.append(f"{rel}:{number}: includes {shown}, which is on no floor")
            elif FLOORS.index(target) > FLOORS.index(own):
                problems.append(f"{rel}:{number}: {own} includes {shown} from {target}, "
                                f"a floor above it")
    for p in problems:
        print(p)
    print(f"{len(files)} files, {checked} includes of caviar headers: "
          f"{len(problems)} upward or unplaced")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
