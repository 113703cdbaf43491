"""What bulk ingest's worker processes run at start: no Django here, they never set it up."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
from pathlib import Path

# How often a worker checks that the run it works for is still alive, seconds.
PARENT_CHECK_S = 0.5
PR_SET_PDEATHSIG = 1


def alive(pid: int) -> bool:
    """pid is a running process (a zombie, killed but not yet reaped, counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def die_with_run(run_pid: int) -> None:
    """Worker initializer: end this worker when the run that started it ends, however it
    ends (kill -9 included).  A worker's parent is the forkserver, not the run, so the
    kernel's parent-death signal covers the forkserver's death and a watch thread the run's."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the watch thread alone
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while alive(run_pid):
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="jamjar-watch-run", daemon=True).start()
