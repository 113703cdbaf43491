"""benchmarks/benchmark.py is `manage.py benchmark`, with the arguments it is given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "benchmark.py"


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "JAMJAR_ENV_FILE": "", **env}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_script_passes_its_arguments_to_the_command():
    done = run_script("--conditions", "vinyl")
    assert done.returncode == 2
    assert "usage: manage.py benchmark" in done.stderr and "invalid choice: 'vinyl'" in done.stderr


def test_the_script_runs_the_command_which_refuses_sqlite(tmp_path):
    done = run_script("--skip-ingest", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert done.returncode == 1
    assert "the benchmark measures MySQL/MariaDB" in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # refused before anything was touched
