"""A hash index in files: every catalogue row grouped by hash, read through memory maps.

A catalogue of 100 M fingerprints draws about a million rows for a 5 s query: MariaDB
spends about 180 ns a row on its index reads alone, so lookups there cannot be quick.  Here
a hash's rows lie side by side in two flat files (song ids and anchor frames), and a third
holds where each hash's rows start, so a lookup is two reads per hash and a copy, all in
numpy.  The files are mapped, not read: every process on a machine shares the one copy in
the page cache.

Layout of a directory (little-endian, no header):

    offsets.bin  int64 [2**hash_bits + 1]   rows of hash h are [offsets[h], offsets[h + 1])
    songs.bin    int32 [rows]                song id of each row
    frames.bin   int32 [rows]                anchor frame of each row
    meta.json    {"format", "hash_bits", "rows", ...}: written last, so a directory
                 without it is an unfinished build
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

FORMAT = 1
META = "meta.json"
_OFFSETS, _SONGS, _FRAMES = "offsets.bin", "songs.bin", "frames.bin"


class IndexUnusable(ValueError):
    """The directory holds no usable index (missing, unfinished, or its files disagree)."""


class HashIndex:
    """A finished index directory, mapped read-only."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        try:
            self.meta = json.loads((self.directory / META).read_text())
        except (OSError, ValueError) as exc:
            raise IndexUnusable(f"no finished index in {self.directory}: {exc}") from exc
        if self.meta.get("format") != FORMAT:
            raise IndexUnusable(f"{self.directory}: index format {self.meta.get('format')}, not {FORMAT}")
        rows, hash_bits = int(self.meta["rows"]), int(self.meta["hash_bits"])
        try:
            self._offsets = _map(self.directory / _OFFSETS, "<i8", (1 << hash_bits) + 1)
            self._songs = _map(self.directory / _SONGS, "<i4", rows)
            self._frames = _map(self.directory / _FRAMES, "<i4", rows)
        except OSError as exc:
            raise IndexUnusable(f"{self.directory}: {exc}") from exc
        if int(self._offsets[-1]) != rows or int(self._offsets[0]) != 0:
            raise IndexUnusable(f"{self.directory}: offsets do not cover its {rows} rows")

    @property
    def rows(self) -> int:
        return int(self.meta["rows"])

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row of the distinct hashes asked: (hash, song_id, offset_frames), int64
        [shape=(n_rows,)], grouped by hash in ascending order (as catalog.selectors returns them).
        """
        unique = np.unique(np.asarray(hashes, dtype=np.int64))
        unique = unique[(unique >= 0) & (unique < len(self._offsets) - 1)]
        starts = self._offsets[unique]
        lengths = self._offsets[unique + 1] - starts
        total = int(lengths.sum())
        # Row positions of every hash's run, without a Python loop.
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return np.repeat(unique, lengths), self._songs[at].astype(np.int64), self._frames[at].astype(np.int64)


def _map(path: Path, dtype: str, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=dtype)
    if path.stat().st_size != count * np.dtype(dtype).itemsize:
        raise OSError(f"{path.name} holds {path.stat().st_size} bytes, not {count} {dtype} values")
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


class IndexWriter:
    """Writes an index from rows given in ascending hash order, chunk after chunk, into a
    new directory; finish() makes it usable.  Memory is one chunk and the offsets."""

    def __init__(self, directory: str | os.PathLike, *, hash_bits: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True)
        self.hash_bits = hash_bits
        self._counts = np.zeros(1 << hash_bits, dtype=np.int64)
        self._songs = open(self.directory / _SONGS, "wb")  # noqa: SIM115 (closed by finish)
        self._frames = open(self.directory / _FRAMES, "wb")  # noqa: SIM115
        self._last_hash = -1
        self.rows = 0

    def add(self, hashes: np.ndarray, song_ids: np.ndarray, frames: np.ndarray) -> None:
        """Append rows; their hashes must not go below any added before."""
        hashes = np.asarray(hashes, dtype=np.int64)
        if len(hashes) == 0:
            return
        if hashes[0] < self._last_hash or np.any(hashes[1:] < hashes[:-1]):
            raise ValueError("index rows must come in ascending hash order")
        if hashes[-1] >= len(self._counts) or hashes[0] < 0:
            raise ValueError(f"a hash does not fit in {self.hash_bits} bits")
        self._songs.write(np.asarray(song_ids, dtype="<i4").tobytes())
        self._frames.write(np.asarray(frames, dtype="<i4").tobytes())
        # Count within the chunk's own range: a bincount over every hash value is 134 MB a chunk.
        lo = int(hashes[0])
        self._counts[lo : int(hashes[-1]) + 1] += np.bincount(hashes - lo)
        self._last_hash = int(hashes[-1])
        self.rows += len(hashes)

    def finish(self, **meta) -> HashIndex:
        """Write the offsets and meta.json (meta: whatever the caller wants kept with it)."""
        self._songs.close()
        self._frames.close()
        offsets = np.zeros(len(self._counts) + 1, dtype="<i8")
        np.cumsum(self._counts, out=offsets[1:])
        offsets.tofile(self.directory / _OFFSETS)
        record = {**meta, "format": FORMAT, "hash_bits": self.hash_bits, "rows": self.rows}
        (self.directory / META).write_text(json.dumps(record))
        return HashIndex(self.directory)

    def abandon(self) -> None:
        self._songs.close()
        self._frames.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def replace_directory(new: Path, target: Path) -> None:
    """Put the finished index at new in target's place.  Processes that mapped the old files
    keep reading them until they reopen (an unlinked file stays readable while mapped)."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
