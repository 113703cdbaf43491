"""Where track list jobs run: today one worker thread of this process, one job at a time.

submit() is the only door: a task queue (Celery) can take its place without changing a
caller.  A job queued or running when the process stops keeps that status; upload the
recording again (the upload is kept until its job ends).
"""

from __future__ import annotations

import logging
import queue
import threading

from django.db import connections

logger = logging.getLogger("jamjar.tracklists")

_queue: queue.Queue[int] = queue.Queue()
_worker: threading.Thread | None = None
_lock = threading.Lock()


def submit(tracklist_id: int) -> None:
    """Run the queued job tracklist_id in the background (after any job submitted before it)."""
    global _worker
    _queue.put(tracklist_id)
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="jamjar-tracklists", daemon=True)
            _worker.start()


def _work() -> None:
    from . import services

    while True:
        tracklist_id = _queue.get()
        try:
            services.run_tracklist(tracklist_id)
        except Exception:  # run_tracklist records failures itself; this is the database gone
            logger.exception("track list job %s could not run", tracklist_id)
        finally:
            connections.close_all()  # this thread's connections
            _queue.task_done()


def wait_all(timeout_s: float | None = None) -> bool:
    """Block until every submitted job has ended (tests, commands); True if they have."""
    done = threading.Event()
    threading.Thread(target=lambda: (_queue.join(), done.set()), daemon=True).start()
    return done.wait(timeout_s)
