"""Reads of the catalogue: hash lookups, songs, versions and sizes."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

import numpy as np
from django.db import connections, router
from django.db.models import Count, Sum

from . import index as catalogue_index
from .models import Fingerprint, Song

logger = logging.getLogger("jamjar.catalog")

# Hashes per lookup statement: well under SQLite's variable limit, and a MySQL packet.
LOOKUP_BATCH = 4000


def fingerprint_rows(
    hashes: np.ndarray, *, song_id: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every catalogue row whose hash is in hashes (and, given song_id, of that song only).

    hashes: int64 [shape=(n,)].  Returns (hash, song_id, offset_frames), int64 arrays
    [shape=(n_rows,)].  With a hash index (JAMJAR_INDEX_DIR, catalog/index.py) a lookup of
    every song reads it, and the database only for the songs changed since it was built.
    """
    unique = np.unique(np.asarray(hashes, dtype=np.int64))
    if song_id is None:
        index = catalogue_index.current()
        if index is not None:
            return index.rows(unique, _database_rows)
    return _database_rows(unique, None if song_id is None else np.array([song_id]))


def rows_in_hash_range(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row with lo <= hash < hi, as fingerprint_rows returns them (for the index build)."""
    with _Table() as table:
        return _split(table.select(f"{table.hash} >= {int(lo)} AND {table.hash} < {int(hi)}"))


def _database_rows(
    unique: np.ndarray, song_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fingerprint_rows from the database: of the sorted distinct hashes, of song_ids only if given."""
    chunks = []
    with _Table() as table:
        only = "" if song_ids is None else f" AND {table.song} IN ({','.join(map(str, song_ids.tolist()))})"
        for start in range(0, len(unique), LOOKUP_BATCH):
            batch = unique[start : start + LOOKUP_BATCH]
            # The values are numpy integers, so they are inlined: quoting thousands of
            # parameters one by one cost more client CPU than the lookup itself.
            chunks.append(table.select(f"{table.hash} IN ({','.join(map(str, batch.tolist()))}){only}"))
    return _split(np.concatenate(chunks) if chunks else np.zeros((0, 3), dtype=np.int64))


def _split(table_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return table_rows[:, 0], table_rows[:, 1], table_rows[:, 2]


class _Table:
    """Raw SQL on the fingerprint table's primary key (the ORM would build an object per row),
    on a read replica if there are any.  On MySQL/MariaDB and SQLite a statement gets one row
    per hash, its rows packed in one string (_grouped_rows): a third to a half less time a row
    than a row each."""

    def __enter__(self) -> _Table:
        connection = connections[router.db_for_read(Fingerprint)]
        quote = connection.ops.quote_name
        self.name = quote(Fingerprint._meta.db_table)
        self.hash, self.song, self.offset = (
            quote(Fingerprint._meta.get_field(name).column) for name in ("hash", "song", "offset_frames")
        )
        self._aggregate = _GROUP_CONCAT.get(connection.vendor)
        self._cursor = connection.cursor()
        return self

    def __exit__(self, *exc_info) -> None:
        self._cursor.close()

    def select(self, where: str) -> np.ndarray:
        """(hash, song_id, offset_frames) of the rows where `where`, int64 [shape=(n_rows, 3)]."""
        if self._aggregate:
            packed = self._aggregate.format(f"({self.song} << {_SONG_SHIFT}) | {self.offset}")
            self._cursor.execute(
                f"SELECT {self.hash}, COUNT(*), {packed} FROM {self.name} WHERE {where} GROUP BY {self.hash}"
            )
            found = _grouped_rows(self._cursor.fetchall())
            if found is not None:
                return found
        self._cursor.execute(f"SELECT {self.hash}, {self.song}, {self.offset} FROM {self.name} WHERE {where}")
        return _plain_rows(self._cursor.fetchall())


# A row's song and offset packed in one integer for _grouped_rows: song_id << 32 | offset_frames
# (both columns are 32-bit and offsets are not negative).
_SONG_SHIFT = 32
# Each vendor's aggregate that joins a group's values with spaces; MySQL's session setting
# group_concat_max_len must be large enough (jamjar_site.settings raises it for every connection).
_GROUP_CONCAT = {"mysql": "GROUP_CONCAT({} SEPARATOR ' ')", "sqlite": "group_concat({}, ' ')"}


def _plain_rows(rows) -> np.ndarray:
    """(hash, song_id, offset_frames) rows, int64 [shape=(n_rows, 3)]."""
    # fromiter over the flattened tuples: half the time of np.array(rows)
    # (measured on 100k rows: 26.6 against 51.0 ms).
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=3 * len(rows)).reshape(-1, 3)


def _grouped_rows(groups) -> np.ndarray | None:
    """(hash, song_id, offset_frames) rows, int64 [shape=(n_rows, 3)], from one row per hash of
    (hash, row count, the rows' packed values joined by spaces); None if a group's text was cut
    short (a MySQL group_concat_max_len too small for it), so the caller reads the rows plainly.
    """
    if not groups:
        return np.zeros((0, 3), dtype=np.int64)
    hashes = np.fromiter((group[0] for group in groups), dtype=np.int64, count=len(groups))
    counts = np.fromiter((group[1] for group in groups), dtype=np.int64, count=len(groups))
    texts = [group[2] if isinstance(group[2], str) else group[2].decode() for group in groups]
    # numpy parses the numbers in C: no Python int is made for a row.
    packed = np.fromstring(" ".join(texts), dtype=np.int64, sep=" ")
    if len(packed) != counts.sum():
        logger.warning(
            "fingerprint lookup: a hash's rows were cut short (%d of %d); raise MySQL's "
            "group_concat_max_len. Reading them a row at a time.",
            len(packed),
            counts.sum(),
        )
        return None
    return np.column_stack([np.repeat(hashes, counts), packed >> _SONG_SHIFT, packed & 0xFFFFFFFF])


def songs_by_id(song_ids: Iterable[int], *, with_peaks: bool = False) -> dict[int, Song]:
    """Songs by id; their packed peaks (Song.peaks) are only read with_peaks."""
    songs = Song.objects.filter(pk__in=list(song_ids))
    return {song.pk: song for song in (songs if with_peaks else songs.defer("peaks"))}


def songs_by_sha1(sha1s: Iterable[str]) -> dict[str, tuple[int, float]]:
    """sha1 -> (song id, duration in s) for the catalogued ones (one indexed query per 1000)."""
    wanted = list(dict.fromkeys(sha1s))
    found: dict[str, tuple[int, float]] = {}
    for start in range(0, len(wanted), 1000):
        rows = Song.objects.filter(sha1__in=wanted[start : start + 1000]).values_list(
            "sha1", "pk", "duration_s"
        )
        found.update({sha1: (pk, duration_s) for sha1, pk, duration_s in rows})
    return found


def known_sha1s(sha1s: Iterable[str]) -> set[str]:
    """Which of these content hashes are catalogued."""
    return set(songs_by_sha1(sha1s))


def catalogue_versions() -> dict[str, int]:
    """Songs per fingerprint parameter version."""
    rows = Song.objects.values("params_version").annotate(n=Count("id")).order_by()
    return {row["params_version"]: row["n"] for row in rows}


def catalogue_stats(*, with_sizes: bool = True) -> dict:
    """Songs, fingerprints, hours of audio and (with_sizes) the tables' bytes on disk."""
    totals = Song.objects.aggregate(
        songs=Count("id"), fingerprints=Sum("fingerprint_count"), seconds=Sum("duration_s")
    )
    seconds = totals["seconds"] or 0.0
    stats = {
        "songs": totals["songs"] or 0,
        "fingerprints": totals["fingerprints"] or 0,
        "audio_hours": seconds / 3600.0,
    }
    if with_sizes:
        size = table_size_bytes()
        stats.update(database_bytes=size, fingerprint_table_bytes=size.get("fingerprint"))
    return stats


def table_size_bytes() -> dict:
    """Data + index bytes of the fingerprint and song tables, where the database reports it."""
    tables = {"fingerprint": Fingerprint._meta.db_table, "song": Song._meta.db_table}
    sizes: dict = {}
    connection = connections[router.db_for_read(Fingerprint)]
    with connection.cursor() as cursor:
        for key, table in tables.items():
            if connection.vendor == "mysql":
                cursor.execute(
                    "SELECT data_length + index_length FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = %s",
                    [table],
                )
                row = cursor.fetchone()
                sizes[key] = int(row[0]) if row and row[0] is not None else None
            elif connection.vendor == "sqlite":
                try:
                    cursor.execute(
                        "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = %s)",
                        [table],
                    )
                    row = cursor.fetchone()
                    sizes[key] = int(row[0]) if row and row[0] is not None else None
                except Exception:  # dbstat is an optional SQLite build feature
                    sizes[key] = None
            else:
                sizes[key] = None
    return sizes
