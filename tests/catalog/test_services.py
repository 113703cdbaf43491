"""Catalogue writes: atomic ingest, duplicates, deletion, parameter versions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Fingerprint, Song
from recognition import services as recognition_services
from recognition.engine.audio import AudioDecodeError

pytestmark = pytest.mark.django_db


def test_ingest_stores_song_with_all_its_fingerprints(song_files):
    result = services.ingest_file(song_files[0].path)
    song = result.song
    assert result.created
    assert song.fingerprint_count > 100
    assert Fingerprint.objects.filter(song=song).count() == song.fingerprint_count
    assert song.duration_s == pytest.approx(24.0, abs=0.05)
    assert song.title == "song 11"  # from the file name, underscores as spaces
    assert len(song.sha1) == 40


def test_same_content_twice_is_not_duplicated(song_files, tmp_path):
    first = services.ingest_file(song_files[0].path)
    copy = tmp_path / "renamed copy.wav"
    copy.write_bytes(song_files[0].path.read_bytes())
    second = services.ingest_file(copy)
    assert not second.created
    assert second.song.pk == first.song.pk
    assert Song.objects.count() == 1


def test_failed_insert_leaves_neither_song_nor_fingerprints(song_files, monkeypatch):
    real_insert = services.insert_fingerprints

    def insert_then_fail(song_id, hashes, offsets):
        real_insert(song_id, hashes[: len(hashes) // 2], offsets[: len(offsets) // 2])
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "insert_fingerprints", insert_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        services.ingest_file(song_files[0].path)
    assert Song.objects.count() == 0
    assert Fingerprint.objects.count() == 0


def test_bad_file_raises_clear_error_and_writes_nothing(tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("this is not music\n" * 50)
    with pytest.raises(AudioDecodeError, match=r"notes\.mp3"):
        services.ingest_file(text)
    assert Song.objects.count() == 0


def test_delete_removes_fingerprints_in_one_statement(catalogue):
    doomed, kept = catalogue[11], catalogue[12]
    with CaptureQueriesContext(connection) as queries:
        assert services.delete_songs([doomed.pk]) == 1
    fingerprint_table = Fingerprint._meta.db_table
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("DELETE") and fingerprint_table in q["sql"]
    ]
    assert len(deletes) == 1
    assert not Fingerprint.objects.filter(song_id=doomed.pk).exists()
    assert Fingerprint.objects.filter(song_id=kept.pk).count() == kept.fingerprint_count
    assert not Song.objects.filter(pk=doomed.pk).exists()


def test_matching_refuses_fingerprints_of_another_version(catalogue, song_files, settings):
    settings.JAMJAR_FINGERPRINT = {"fan_out": 5}
    with pytest.raises(recognition_services.CatalogueVersionMismatch, match="refingerprint"):
        recognition_services.recognize_file(song_files[0].path, seconds=3)


def test_query_only_parameters_do_not_change_the_version(catalogue, song_files, settings):
    settings.JAMJAR_FINGERPRINT = {"query_fan_out": 16}
    result = recognition_services.recognize_file(song_files[0].path, start_s=2.0, seconds=3)
    assert result.match is not None and result.match.song_id == catalogue[11].pk


def test_refingerprint_brings_songs_to_the_current_version(catalogue, song_files, settings):
    settings.JAMJAR_FINGERPRINT = {"fan_out": 5}
    song = services.refingerprint_song(Song.objects.get(pk=catalogue[12].pk))
    assert song.params_version != catalogue[12].params_version
    assert (
        Fingerprint.objects.filter(song=song).count()
        == song.fingerprint_count
        > catalogue[12].fingerprint_count
    )


def test_stats_count_songs_fingerprints_and_hours(catalogue):
    from catalog.selectors import catalogue_stats

    stats = catalogue_stats()
    assert stats["songs"] == 4
    assert stats["fingerprints"] == Fingerprint.objects.count()
    assert stats["audio_hours"] == pytest.approx(4 * 24.0 / 3600, rel=0.01)
