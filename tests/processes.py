"""Which processes a test run started, found in /proc: by a marker in their environment, or by
their parent chain."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Every process a test starts inherits this variable (os.environ, and tests/conftest.py's
# subprocess_env); its value names one pytest process, so parallel workers and other people's
# runs on the same machine are told apart.
RUN_MARKER = "JAMJAR_TEST_RUN"

# multiprocessing's own helpers in the pytest process (fingerprint_dir run in-process starts
# them): each ends when its pipe to the pytest process closes, that is with pytest itself.
INTERPRETER_HELPERS = (
    "from multiprocessing.forkserver import main",
    "from multiprocessing.resource_tracker import main",
)


@dataclass(frozen=True)
class Process:
    pid: int
    parent_pid: int
    state: str
    command: str
    environ: bytes

    def __str__(self) -> str:
        return f"{self.pid} (parent {self.parent_pid}) {self.command[:160]}"


def mark_this_run() -> str:
    """Give this process's children a marker of their own; returns its value."""
    value = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    os.environ[RUN_MARKER] = value
    return value


def live_processes() -> list[Process]:
    """Every process in /proc that is not a zombie, that this user may read."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
            command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            environ = (folder / "environ").read_bytes()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if fields[0] not in {"Z", "X"}:
            found.append(Process(int(folder.name), int(fields[1]), fields[0], command, environ))
    return found


def started_by(marker: str, pytest_pid: int) -> list[Process]:
    """Processes that carry the marker or descend from pytest_pid, other than pytest_pid
    itself and its multiprocessing helpers."""
    processes = live_processes()
    parents = {process.pid: process.parent_pid for process in processes}
    tag = f"{RUN_MARKER}={marker}".encode()

    def descends(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            pid = parents.get(pid, 0)
            if pid == pytest_pid:
                return True
        return False

    def helper(process: Process) -> bool:
        return process.parent_pid == pytest_pid and any(h in process.command for h in INTERPRETER_HELPERS)

    return [
        process
        for process in processes
        if process.pid != pytest_pid
        and (tag in process.environ.split(b"\0") or descends(process.pid))
        and not helper(process)
    ]


def left_behind(marker: str, pytest_pid: int, *, grace_s: float) -> list[Process]:
    """started_by once it is empty, or what is still there after grace_s (a worker told of its
    run's death takes up to half a second to notice)."""
    deadline = time.monotonic() + grace_s
    while (left := started_by(marker, pytest_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kill(processes: list[Process]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
