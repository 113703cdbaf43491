"""Admin batches (many uploads, re-fingerprinting) run in a background thread, progress kept in memory.

Deliberately small: the progress lives in this server process, so with several worker
processes a progress page may land in another one and say it does not know the batch.
Each item is written in its own transaction (catalog.services), so a batch cut short by
a restart leaves whole songs and the items not done yet, never half a song.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.utils import timezone

logger = logging.getLogger("jamjar.catalog")

# Finished batches are forgotten beyond this many.
KEEP_JOBS = 50


class ItemFailed(Exception):
    """An item the batch could not do; its message is shown as is."""


@dataclass(frozen=True)
class Outcome:
    label: str
    ok: bool
    message: str


@dataclass
class Job:
    id: str
    title: str
    total: int
    started_at: Any = field(default_factory=timezone.now)
    finished_at: Any = None
    # Appended by the worker thread only; readers take a copy (list appends are atomic).
    outcomes: list[Outcome] = field(default_factory=list)
    reported: bool = False
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in list(self.outcomes) if not outcome.ok]

    @property
    def percent(self) -> int:
        return int(100 * len(self.outcomes) / self.total) if self.total else 100

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the batch is done (tests, commands); True if it is."""
        return self._done.wait(timeout_s)


_jobs: OrderedDict[str, Job] = OrderedDict()
_lock = threading.Lock()


def start(
    *,
    title: str,
    items: Sequence,
    label: Callable[[Any], str],
    work: Callable[[Any], str],
    cleanup: Callable[[], None] | None = None,
) -> Job:
    """Run work(item) for each item in a background thread; returns the job at once.

    work returns a message for the item; raising ItemFailed (or anything else) marks the
    item failed and the batch goes on.  cleanup runs at the end whatever happened.
    """
    job = Job(id=uuid.uuid4().hex, title=title, total=len(items))
    with _lock:
        _jobs[job.id] = job
        while len(_jobs) > KEEP_JOBS:
            oldest = next(iter(_jobs.values()))
            if not oldest.finished:
                break
            _jobs.popitem(last=False)
    thread = threading.Thread(
        target=_run,
        args=(job, list(items), label, work, cleanup),
        name=f"jamjar-job-{job.id[:8]}",
        daemon=True,
    )
    thread.start()
    return job


def get(job_id: str) -> Job | None:
    with _lock:
        return _jobs.get(job_id)


def _run(job: Job, items: list, label: Callable, work: Callable, cleanup: Callable | None) -> None:
    try:
        for item in items:
            name = label(item)
            try:
                job.outcomes.append(Outcome(name, True, work(item)))
            except ItemFailed as exc:
                job.outcomes.append(Outcome(name, False, str(exc)))
            except Exception as exc:  # one bad item must not end the batch
                logger.exception("batch %s: %s failed", job.title, name)
                job.outcomes.append(Outcome(name, False, f"unexpected error: {exc}"))
    finally:
        try:
            if cleanup is not None:
                cleanup()
        finally:
            connections.close_all()  # this thread's database connections
            job.finished_at = timezone.now()
            job._done.set()
