"""The catalogue's hash index: lookups read it and give what the database gives, also after
songs are added, changed or deleted, and fall back to the database when it is unusable."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import index as catalogue_index
from catalog import selectors, services
from catalog.indexing import build_index
from catalog.models import Fingerprint
from tests.catalog.test_selectors import as_set, make_song

pytestmark = pytest.mark.django_db

ASKED = np.array([5, 7, 8, 9, 11, 2**24 - 1])


@pytest.fixture
def indexed(settings, tmp_path, monkeypatch):
    """Two songs, indexed in tmp_path/index, which lookups then use; changes are seen at once."""
    monkeypatch.setattr(catalogue_index, "INDEX_REFRESH_S", 0.0)
    first = make_song("first", rows=[(7, 10), (7, 42), (8, 11), (2**24 - 1, 3)])
    second = make_song("second", rows=[(7, 5), (9, 6)])
    settings.JAMJAR_INDEX_DIR = str(tmp_path / "index")
    built = build_index()
    assert (built.songs, built.rows) == (2, 6)
    yield first, second
    catalogue_index.forget()


def database_rows():
    return as_set(selectors._database_rows(np.unique(ASKED)))


def test_lookups_read_the_index_and_find_what_the_database_holds(indexed):
    with CaptureQueriesContext(connection) as queries:
        found = as_set(selectors.fingerprint_rows(ASKED))
    assert found == database_rows() and len(found) == 6
    table = Fingerprint._meta.db_table
    assert not [query for query in queries if table in query["sql"]]  # the index answered


def test_songs_added_changed_or_deleted_after_the_build_are_seen(indexed):
    first, second = indexed
    third = make_song("third", rows=[(7, 99), (11, 1)])
    services.delete_songs([first.pk])
    services.delete_fingerprints([second.pk])
    services.insert_fingerprints(second.pk, np.array([9, 11]), np.array([60, 61]))
    second.save()  # a new stamp, as refingerprint_song saves one
    found = as_set(selectors.fingerprint_rows(ASKED))
    assert (
        found
        == database_rows()
        == {(7, third.pk, 99), (11, third.pk, 1), (9, second.pk, 60), (11, second.pk, 61)}
    )


def test_a_lookup_of_one_song_reads_the_database(indexed):
    first, _ = indexed
    services.delete_fingerprints([first.pk])
    assert as_set(selectors.fingerprint_rows(ASKED, song_id=first.pk)) == set()


def test_a_damaged_index_is_left_for_the_database_with_a_warning(indexed, settings, caplog):
    (Path(settings.JAMJAR_INDEX_DIR) / "songs.bin").write_bytes(b"")
    catalogue_index.forget()
    assert as_set(selectors.fingerprint_rows(ASKED)) == database_rows()
    assert "hash index not used" in caplog.text and "songs.bin holds 0 bytes" in caplog.text


def test_a_missing_index_is_left_for_the_database(settings, tmp_path, caplog):
    song = make_song("only", rows=[(7, 1)])
    settings.JAMJAR_INDEX_DIR = str(tmp_path / "never-built")
    catalogue_index.forget()
    assert as_set(selectors.fingerprint_rows(np.array([7]))) == {(7, song.pk, 1)}
    assert "hash index not used" in caplog.text


def test_the_command_builds_and_replaces_the_index(settings, tmp_path):
    make_song("only", rows=[(7, 1), (8, 2)])
    out = io.StringIO()
    for _ in range(2):
        call_command("build_index", "--path", str(tmp_path / "index"), "--no-progress", stdout=out)
    assert out.getvalue().count("indexed 2 fingerprints of 1 songs") == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index"]


def test_the_command_needs_a_folder(settings):
    settings.JAMJAR_INDEX_DIR = ""
    with pytest.raises(CommandError, match="JAMJAR_INDEX_DIR"):
        call_command("build_index", "--no-progress")
