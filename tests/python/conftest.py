"""Shared fixtures of the Python module's tests (run by CTest: tests/python/CMakeLists.txt).

The module comes from PYTHONPATH (<build>/python) and the command line from $CAVIAR_CLI
(<build>/caviar), both set by CTest; run by hand:
    PYTHONPATH=build/python CAVIAR_CLI=build/caviar python3 -m pytest -q tests/python
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli() -> str:
    path = os.path.abspath(os.environ.get("CAVIAR_CLI", str(ROOT / "build" / "caviar")))
    assert os.access(path, os.X_OK), f"no caviar command at {path}: set CAVIAR_CLI"
    return path


@pytest.fixture
def run_cli(cli, tmp_path):
    """Runs `caviar ARGS...` in tmp_path; returns the CompletedProcess (text)."""

    def run(*args, check=True):
        done = subprocess.run([cli, *map(str, args)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"caviar {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}")
        return done

    return run
