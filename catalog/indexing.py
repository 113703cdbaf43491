"""Building the catalogue's hash index (catalog/index.py) from the database."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from recognition.engine.hashes import HASH_BITS
from recognition.engine.index import IndexWriter, replace_directory

from . import index as catalogue_index
from . import selectors

# Hash values read per statement: 64 statements for the 24-bit hash, about 1.6 M rows each
# at 100 M fingerprints.
BUILD_HASH_SPAN = 1 << 18


@dataclass(frozen=True)
class IndexBuilt:
    directory: Path
    songs: int
    rows: int
    bytes: int
    seconds: float


def build_index(
    directory: str | os.PathLike | None = None, *, on_progress: Callable[[float, int], None] | None = None
) -> IndexBuilt:
    """Write every row of the songs catalogued now into a new index, then put it in place of
    directory's (default JAMJAR_INDEX_DIR).  Songs added or changed while it is built are
    left to the database (their stamps differ).  on_progress(share done, rows so far).
    Raises ValueError without a directory."""
    target = Path(directory or settings.JAMJAR_INDEX_DIR)
    if not str(directory or settings.JAMJAR_INDEX_DIR):
        raise ValueError("no folder for the index: set JAMJAR_INDEX_DIR or name one")
    started = time.perf_counter()
    # The songs first: a song written after this is not in the index, whatever rows it
    # already has when its hashes are read.
    song_ids, stamps = catalogue_index.song_stamps()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    writer = IndexWriter(building, hash_bits=HASH_BITS)
    try:
        for lo in range(0, 1 << HASH_BITS, BUILD_HASH_SPAN):
            hashes, songs, frames = selectors.rows_in_hash_range(lo, lo + BUILD_HASH_SPAN)
            keep = np.isin(songs, song_ids)
            order = np.argsort(hashes[keep], kind="stable")
            writer.add(hashes[keep][order], songs[keep][order], frames[keep][order])
            if on_progress:
                on_progress((lo + BUILD_HASH_SPAN) / (1 << HASH_BITS), writer.rows)
        writer.finish(song_ids=song_ids.tolist(), song_stamps_us=stamps.tolist())
    except BaseException:
        writer.abandon()
        raise
    replace_directory(building, target)
    catalogue_index.forget()
    size = sum(path.stat().st_size for path in target.iterdir())
    return IndexBuilt(target, len(song_ids), writer.rows, size, time.perf_counter() - started)
