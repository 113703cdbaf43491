"""The catalogue's hash index in files, kept honest against the database.

`manage.py build_index` (catalog/indexing.py) writes every fingerprint row of the songs
catalogued at that moment into JAMJAR_INDEX_DIR (recognition/engine/index.py).  A lookup then
reads the index for those songs and the database only for songs added or changed since
(their `updated_at` differs from the one the index was built with); rows of songs deleted or
changed since are left out.  Which songs changed is read again every INDEX_REFRESH_S, and a
rebuilt index is picked up then too, so no process needs a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import router

from recognition.engine.index import META, HashIndex, IndexUnusable

from .models import Song

logger = logging.getLogger("jamjar.catalog")

# How stale a process's view of which songs changed since the build may be, in seconds.
INDEX_REFRESH_S = 5.0


def song_stamps() -> tuple[np.ndarray, np.ndarray]:
    """(song id, updated_at in microseconds since the epoch) of every song, int64, by id."""
    rows = Song.objects.using(router.db_for_read(Song)).order_by("pk").values_list("pk", "updated_at")
    ids, stamps = [], []
    for pk, updated_at in rows.iterator(chunk_size=10_000):
        ids.append(pk)
        stamps.append(stamp_us(updated_at))
    return np.array(ids, dtype=np.int64), np.array(stamps, dtype=np.int64)


def stamp_us(moment) -> int:
    return round(moment.timestamp() * 1_000_000)


class CatalogueIndex:
    """An index directory and what has changed in the catalogue since it was built."""

    def __init__(self, files: HashIndex) -> None:
        self.files = files
        self._ids = np.asarray(files.meta["song_ids"], dtype=np.int64)
        self._stamps = np.asarray(files.meta["song_stamps_us"], dtype=np.int64)
        self.mtime = (files.directory / META).stat().st_mtime
        self.left_out = np.zeros(0, dtype=np.int64)  # songs in the index, deleted or changed since
        self.from_database = np.zeros(0, dtype=np.int64)  # songs the index does not hold as they are

    def refresh(self) -> None:
        ids, stamps = song_stamps()
        at = np.searchsorted(ids, self._ids)
        present = at < len(ids)
        present[present] = ids[at[present]] == self._ids[present]
        same = present.copy()
        same[present] = stamps[at[present]] == self._stamps[present]
        self.left_out = self._ids[~same]
        self.from_database = np.setdiff1d(ids, self._ids[same], assume_unique=True)

    def rows(
        self, hashes: np.ndarray, database_rows: Callable[[np.ndarray, np.ndarray], tuple]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row of the distinct hashes (sorted int64), grouped by hash like a database
        lookup; database_rows(hashes, song_ids) reads the songs the index does not hold."""
        found = self.files.lookup(hashes)
        if len(self.left_out):
            keep = ~np.isin(found[1], self.left_out)
            found = tuple(column[keep] for column in found)
        if len(self.from_database) and len(hashes):
            extra = database_rows(hashes, self.from_database)
            if len(extra[0]):
                merged = [np.concatenate([a, b]) for a, b in zip(found, extra, strict=True)]
                order = np.argsort(merged[0], kind="stable")
                found = tuple(column[order] for column in merged)
        return found


_lock = threading.Lock()
_current: dict = {"directory": None, "index": None, "checked": -np.inf, "failure": None}


def current() -> CatalogueIndex | None:
    """The index of JAMJAR_INDEX_DIR, refreshed at most every INDEX_REFRESH_S; None when there
    is none or it cannot be read (lookups then go to the database, and the reason is logged
    once)."""
    directory = settings.JAMJAR_INDEX_DIR
    if not directory:
        return None
    now = time.monotonic()
    state = _current
    if state["directory"] == directory and now - state["checked"] < INDEX_REFRESH_S:
        return state["index"]
    with _lock:
        index = state["index"] if state["directory"] == directory else None
        try:
            meta = Path(directory) / META
            if index is None or meta.stat().st_mtime != index.mtime:
                index = CatalogueIndex(HashIndex(directory))
            index.refresh()
            failure = None
        except (IndexUnusable, OSError, KeyError, ValueError) as exc:
            index, failure = None, str(exc)
            if failure != state["failure"]:
                logger.warning("hash index not used, lookups go to the database: %s", failure)
        state.update(directory=directory, index=index, checked=now, failure=failure)
    return index


def forget() -> None:
    """Drop the process's index, so the next lookup opens it again (tests; after a rebuild
    that must be seen at once)."""
    with _lock:
        _current.update(directory=None, index=None, checked=-np.inf, failure=None)
