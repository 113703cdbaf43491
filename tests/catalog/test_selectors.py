"""Catalogue reads: rows by hash, songs by id and content hash, versions and totals."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors, services
from catalog.models import Song

pytestmark = pytest.mark.django_db


def sha1_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def make_song(name: str, *, duration_s: float = 10.0, version: str = "h1-current", rows=()) -> Song:
    """A song with these (hash, offset_frames) rows, written as ingest writes them."""
    rows = np.asarray(list(rows), dtype=np.int64).reshape(-1, 2)
    song = Song.objects.create(
        title=name,
        sha1=sha1_of(name),
        duration_s=duration_s,
        params_version=version,
        fingerprint_count=len(rows),
    )
    services.insert_fingerprints(song.pk, rows[:, 0], rows[:, 1])
    return song


def as_set(found: tuple[np.ndarray, np.ndarray, np.ndarray]) -> set[tuple[int, int, int]]:
    hashes, song_ids, offsets = found
    assert hashes.dtype == song_ids.dtype == offsets.dtype == np.int64
    assert len(hashes) == len(song_ids) == len(offsets)
    return set(zip(hashes.tolist(), song_ids.tolist(), offsets.tolist(), strict=True))


@pytest.fixture
def two_songs():
    """Hash 7 is in both songs, twice in the first; 9 only in the second; 5 in none."""
    first = make_song("first", rows=[(7, 10), (7, 42), (8, 11), (2**24 - 1, 3)])
    second = make_song("second", rows=[(7, 5), (9, 6)])
    return first, second


def test_fingerprint_rows_are_every_row_of_the_hashes_asked(two_songs):
    first, second = two_songs
    found = as_set(selectors.fingerprint_rows(np.array([7, 9, 5, 2**24 - 1])))
    assert found == {
        (7, first.pk, 10),
        (7, first.pk, 42),
        (7, second.pk, 5),
        (9, second.pk, 6),
        (2**24 - 1, first.pk, 3),
    }


def test_a_hash_asked_twice_gives_its_rows_once(two_songs):
    hashes, _, _ = selectors.fingerprint_rows(np.array([8, 8, 8]))
    assert hashes.tolist() == [8]


def test_fingerprint_rows_of_one_song(two_songs):
    first, second = two_songs
    assert as_set(selectors.fingerprint_rows(np.array([7, 9]), song_id=second.pk)) == {
        (7, second.pk, 5),
        (9, second.pk, 6),
    }
    assert as_set(selectors.fingerprint_rows(np.array([9]), song_id=first.pk)) == set()


@pytest.mark.parametrize("asked", [np.array([5, 6]), np.zeros(0, dtype=np.int64)], ids=["unknown", "none"])
def test_no_rows_are_empty_int64_arrays(two_songs, asked):
    found = selectors.fingerprint_rows(asked)
    assert [(array.dtype, array.shape) for array in found] == [(np.dtype(np.int64), (0,))] * 3


def test_many_hashes_are_looked_up_in_batches_and_all_found(monkeypatch):
    rows = [(hash_, offset) for offset, hash_ in enumerate(range(1000, 1025))]
    song = make_song("batched", rows=rows)
    monkeypatch.setattr(selectors, "LOOKUP_BATCH", 10)
    with CaptureQueriesContext(connection) as queries:
        found = as_set(selectors.fingerprint_rows(np.arange(995, 1030)))  # 35 hashes: 4 statements
    assert found == {(hash_, song.pk, offset) for hash_, offset in rows}
    assert len(queries) == 4


def test_songs_by_id_leaves_out_unknown_ids(two_songs):
    first, second = two_songs
    found = selectors.songs_by_id([second.pk, first.pk, second.pk + 1000])
    assert {pk: song.title for pk, song in found.items()} == {first.pk: "first", second.pk: "second"}


def test_songs_by_sha1_gives_id_and_duration_of_the_catalogued_ones():
    known = make_song("known", duration_s=12.5)
    asked = [sha1_of(f"absent {n}") for n in range(1500)] + [known.sha1, known.sha1]
    with CaptureQueriesContext(connection) as queries:
        found = selectors.songs_by_sha1(asked)
    assert found == {known.sha1: (known.pk, 12.5)}
    assert len(queries) == 2  # 1501 distinct hashes, 1000 a query


def test_known_sha1s(two_songs):
    first, _ = two_songs
    assert selectors.known_sha1s([first.sha1, sha1_of("never catalogued")]) == {first.sha1}
    assert selectors.known_sha1s([]) == set()


def test_catalogue_versions_counts_songs_per_version():
    assert selectors.catalogue_versions() == {}
    make_song("a", version="h1-old")
    make_song("b", version="h1-new")
    make_song("c", version="h1-new")
    assert selectors.catalogue_versions() == {"h1-old": 1, "h1-new": 2}


def test_stats_of_an_empty_catalogue_are_zeros():
    stats = selectors.catalogue_stats(with_sizes=False)
    assert stats == {"songs": 0, "fingerprints": 0, "audio_hours": 0.0}


def test_stats_add_up_songs_rows_and_hours(two_songs):
    make_song("long", duration_s=3600.0 - 20.0, rows=[(1, 1)])
    stats = selectors.catalogue_stats(with_sizes=False)
    assert stats == {"songs": 3, "fingerprints": 4 + 2 + 1, "audio_hours": pytest.approx(1.0)}


def test_stats_with_sizes_name_the_fingerprint_table(two_songs):
    stats = selectors.catalogue_stats(with_sizes=True)
    assert set(stats["database_bytes"]) == {"fingerprint", "song"}
    assert stats["fingerprint_table_bytes"] == stats["database_bytes"]["fingerprint"]
    if connection.vendor == "mysql":  # SQLite reports sizes only when built with dbstat
        assert stats["fingerprint_table_bytes"] > 0


def test_every_song_lookup_reads_one_row_a_hash(two_songs):
    """One grouped statement where the database has a string aggregate: no row a fingerprint."""
    with CaptureQueriesContext(connection) as queries:
        selectors.fingerprint_rows(np.array([7, 9]))
    expected = "GROUP BY" if connection.vendor in ("mysql", "sqlite") else "WHERE"
    assert expected in queries[0]["sql"]


def test_large_song_ids_and_offsets_survive_packing():
    song = make_song("late", rows=[(11, 2**31 - 1), (11, 0), (12, 123_456_789)])
    found = as_set(selectors.fingerprint_rows(np.array([11, 12])))
    assert found == {(11, song.pk, 2**31 - 1), (11, song.pk, 0), (12, song.pk, 123_456_789)}


def test_a_group_cut_short_is_read_again_a_row_at_a_time(caplog):
    assert selectors._grouped_rows([(7, 3, "1 2")]) is None
    assert "cut short" in caplog.text
    assert selectors._grouped_rows([(7, 2, b"4294967301 9")]).tolist() == [[7, 1, 5], [7, 0, 9]]


@pytest.mark.skipif(connection.vendor != "mysql", reason="group_concat_max_len is MySQL's")
def test_mysql_group_limit_too_small_still_gives_every_row(two_songs, caplog):
    first, second = two_songs
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION group_concat_max_len = 4")
    try:
        found = as_set(selectors.fingerprint_rows(np.array([7])))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION group_concat_max_len = 1073741824")
    assert found == {(7, first.pk, 10), (7, first.pk, 42), (7, second.pk, 5)}
    assert "cut short" in caplog.text
