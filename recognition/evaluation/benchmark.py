"""The benchmark on real music in MySQL/MariaDB: ingest speed, catalogue size, accuracy and match time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from catalog.bulk import BulkSummary, ingest_directory
from catalog.models import Song
from catalog.selectors import table_size_bytes
from recognition import conf

from . import clips, corpus, summary

# Progress is said every this many clips.
PROGRESS_EVERY_CLIPS = 200


def recreate_database(settings: dict | None = None) -> str:
    """Drop a MySQL/MariaDB database and create it again, empty; returns its name.

    settings: a Django DATABASES entry (NAME, HOST, PORT, USER, PASSWORD); by default the one
    Django is connected to, whose connection is closed first (the next query reconnects).
    """
    import MySQLdb

    if settings is None:
        settings = connection.settings_dict
        connection.close()
    server = MySQLdb.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=int(settings["PORT"] or 3306),
        user=settings["USER"] or "root",
        passwd=settings["PASSWORD"] or "",
    )
    try:
        cursor = server.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{settings['NAME']}`")
        cursor.execute(f"CREATE DATABASE `{settings['NAME']}` CHARACTER SET utf8mb4")
    finally:
        server.close()
    return settings["NAME"]


def ingest_figures(ingested: BulkSummary) -> dict:
    return {
        "songs": ingested.new,
        "failed": ingested.failed,
        "audio_hours": ingested.audio_s / 3600,
        "fingerprints": ingested.fingerprints,
        "seconds": ingested.elapsed_s,
        "realtime_factor": ingested.realtime_factor,
    }


def size_figures() -> dict:
    """The catalogue's size: fingerprints, bytes on disk (fresh statistics), per minute of audio."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE catalog_fingerprint")
        cursor.fetchall()
    sizes = table_size_bytes()
    songs = list(Song.objects.all())
    fingerprints = sum(s.fingerprint_count for s in songs)
    minutes = sum(s.duration_s for s in songs) / 60
    return {
        "songs": len(songs),
        "audio_minutes": minutes,
        "fingerprints": fingerprints,
        "fingerprint_table_bytes": sizes["fingerprint"],
        "bytes_per_fingerprint": sizes["fingerprint"] / fingerprints,
        "kb_per_audio_minute": (sizes["fingerprint"] + (sizes["song"] or 0)) / 1000 / minutes,
        "fingerprints_per_audio_minute": fingerprints / minutes,
    }


def run_benchmark(
    corpus_dir: str | Path,
    *,
    catalogue: Sequence[Path] | None,
    lengths_s: Sequence[float],
    conditions: Sequence[str],
    clips_per_song: int,
    padding_s: float,
    workers: int,
    seed: int,
    say: Callable[[str], None],
) -> dict:
    """Catalogue, measure and query the corpus; the figures as a dict (the benchmark's JSON).

    catalogue: the tracks to catalogue in a database dropped and created again for them
    (recreate_database); None measures the catalogue as it is.  Every audio file below
    corpus_dir is then queried: those whose content is catalogued are positives, the rest
    negatives (clips.find_tracks), with seeded clips as `evaluate` cuts them.
    """
    params = conf.fingerprint_params()
    report: dict = {"database": connection.vendor, "params": params.__dict__, "version": params.version}
    if catalogue is not None:
        recreate_database()
        folder = corpus.link_folder(list(catalogue), f"{corpus_dir}-catalogue")
        call_command("migrate", verbosity=0)
        say(f"ingesting {len(catalogue)} tracks with {workers} workers ...")
        report["ingest"] = ingest_figures(ingest_directory(folder, workers=workers))
        ingest = report["ingest"]
        say(
            f"  {ingest['songs']} songs, {ingest['audio_hours']:.2f} h, {ingest['fingerprints']} fingerprints in "
            f"{ingest['seconds']:.1f} s: {ingest['realtime_factor']:.0f}x realtime"
        )
    report["size"] = size_figures()
    say(
        f"  size: {report['size']['bytes_per_fingerprint']:.1f} bytes per fingerprint, "
        f"{report['size']['kb_per_audio_minute']:.0f} kB per minute of audio"
    )

    # The corpus holds the catalogued and the held-out tracks: find_tracks tells them apart by
    # content SHA-1, as `manage.py evaluate` does.
    scan = clips.find_tracks(corpus_dir)
    specs = clips.plan_clips(
        scan.tracks,
        lengths_s=lengths_s,
        conditions=conditions,
        clips_per_song=clips_per_song,
        padding_s=padding_s,
        seed=seed,
    )
    say(f"querying {len(specs)} clips ({scan.positives} catalogued tracks, {scan.negatives} unknown) ...")
    started = time.perf_counter()
    done = 0

    def tick(outcome: clips.ClipOutcome) -> None:
        nonlocal done
        done += 1
        if done % PROGRESS_EVERY_CLIPS == 0:
            say(f"  {done}/{len(specs)}")

    outcomes = clips.run_clips(specs, seed=seed, on_clip=tick)
    report["queries"] = {"clips": len(specs), "seconds": time.perf_counter() - started}
    report["summary"] = summary.summarise(outcomes)
    report["outcomes"] = [o.as_dict() for o in outcomes]
    return report
