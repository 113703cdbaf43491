"""The benchmark on MariaDB: a database recreated empty, the figures of a catalogue as it is."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.models import Song
from recognition.evaluation import benchmark
from tests.audio_fixtures import synth_song, write_wav

NEGATIVE_RATE_HZ = 22050


def needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip(f"MySQL-specific; this run uses {connection.vendor} (CI runs the suite on MariaDB too)")


@pytest.mark.django_db
def test_the_benchmark_command_refuses_any_database_but_mysql():
    if connection.vendor == "mysql":
        pytest.skip("the refusal is for other databases; this run uses MySQL")
    with pytest.raises(CommandError, match="measures MySQL/MariaDB"):
        call_command("benchmark", "--no-input", "--skip-ingest")


@pytest.mark.mysql
@pytest.mark.django_db
def test_recreate_database_leaves_an_empty_utf8mb4_database():
    needs_mysql()
    scratch = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_recreated"}
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{scratch['NAME']}` CHARACTER SET latin1")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS `{scratch['NAME']}`.leftover (id INT)")
    try:
        assert benchmark.recreate_database(scratch) == scratch["NAME"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s", [scratch["NAME"]]
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                "SELECT default_character_set_name FROM information_schema.schemata WHERE schema_name = %s",
                [scratch["NAME"]],
            )
            assert cursor.fetchone()[0] == "utf8mb4"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{scratch['NAME']}`")


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # ANALYZE TABLE commits
def test_run_benchmark_measures_the_catalogue_as_it_is_and_queries_every_track(
    catalogue, song_files, tmp_path
):
    needs_mysql()
    corpus_dir = tmp_path / "corpus"
    (corpus_dir / "generated").mkdir(parents=True)
    for track in song_files:
        shutil.copyfile(track.path, corpus_dir / "generated" / track.path.name)
    write_wav(
        corpus_dir / "generated" / "unknown.wav",
        synth_song(101, duration_s=20.0, sample_rate_hz=NEGATIVE_RATE_HZ),
        sample_rate_hz=NEGATIVE_RATE_HZ,
    )
    said: list[str] = []
    report = benchmark.run_benchmark(
        corpus_dir,
        catalogue=None,
        lengths_s=[2.0],
        conditions=["clean"],
        clips_per_song=1,
        padding_s=2.0,
        workers=1,
        seed=3,
        say=said.append,
    )

    assert report["database"] == "mysql" and "ingest" not in report
    songs = list(Song.objects.all())
    assert report["size"]["songs"] == len(songs) == 4
    assert report["size"]["fingerprints"] == sum(song.fingerprint_count for song in songs)
    assert report["size"]["fingerprint_table_bytes"] > 0
    overall = report["summary"]["overall"]
    assert (overall["positives"], overall["negatives"]) == (4, 1)
    assert overall["accuracy"] == 1.0 and overall["false_positive_rate"] == 0.0
    assert report["queries"]["clips"] == len(report["outcomes"]) == 5
    assert {o["song_id"] for o in report["outcomes"]} == {song.pk for song in songs} | {None}
    assert "querying 5 clips (4 catalogued tracks, 1 unknown) ..." in said


@pytest.mark.mysql
@pytest.mark.django_db
def test_the_benchmark_command_asks_before_dropping_the_database_and_stops_on_no(
    catalogue, tmp_path, monkeypatch
):
    needs_mysql()
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
    with pytest.raises(CommandError, match="cancelled: nothing was changed"):
        call_command("benchmark", "--corpus", tmp_path / "corpus")
    assert len(asked) == 1 and repr(connection.settings_dict["NAME"]) in asked[0]
    assert Song.objects.count() == 4 and not (tmp_path / "corpus").exists()
