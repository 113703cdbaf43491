"""Run `manage.py benchmark` with these arguments, on the database jamjar_bench unless DATABASE_URL names one.

    DATABASE_URL=mysql://root@127.0.0.1:3306/jamjar_bench python benchmarks/benchmark.py [--lengths 3 5 ...]

It drops and recreates that database without asking: never point it at a catalogue you want
to keep.  See `python manage.py benchmark --help` for the options.
"""

import os
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parents[1] / "manage.py"

if __name__ == "__main__":
    environment = {
        "DATABASE_URL": "mysql://root@127.0.0.1:3306/jamjar_bench",
        "SECRET_KEY": "benchmark-only-key",
        **os.environ,
    }
    command = [sys.executable, str(MANAGE), "benchmark", "--no-input", *sys.argv[1:]]
    sys.exit(subprocess.run(command, env=environment, check=False).returncode)
