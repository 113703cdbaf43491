"""Benchmark jamjar on real music in MariaDB/MySQL: ingest speed, size, accuracy and match time.

    DATABASE_URL=mysql://root@127.0.0.1:3306/jamjar_bench python benchmarks/benchmark.py

It (re)creates the database named in DATABASE_URL (default jamjar_bench: never point it at
a catalogue you want to keep), collects the music of Debian's game-music packages, holds
out a share of the tracks as music that is not in the catalogue, ingests the rest with
fingerprint_dir's service, then queries seeded random clips in each condition and length.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognition.evaluation.degrade import condition_argument


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "jamjar-bench-corpus"))
    parser.add_argument(
        "--holdout", type=float, default=0.2, help="share of tracks left out of the catalogue"
    )
    parser.add_argument("--lengths", type=float, nargs="+", default=[1, 2, 3, 5, 10])
    parser.add_argument(
        "--conditions",
        nargs="+",
        default=["clean", "noise", "phone", "codec"],
        type=condition_argument,
        metavar="CONDITION",
        help="clean noise phone codec crowd speed:PERCENT tempo:PERCENT pitch:PERCENT (default: %(default)s)",
    )
    parser.add_argument("--clips-per-song", type=int, default=2)
    parser.add_argument("--padding", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-ingest", action="store_true", help="reuse the catalogue of a previous run")
    parser.add_argument("--results", default=str(ROOT / "bench-results" / "benchmark.json"))
    return parser.parse_args()


def setup_django(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
    import django

    django.setup()


def recreate_database(database_url: str) -> None:
    import MySQLdb

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    connection = MySQLdb.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        passwd=url.password or "",
    )
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    connection.close()


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "mysql://root@127.0.0.1:3306/jamjar_bench")
    if not database_url.startswith("mysql"):
        sys.exit("the benchmark measures MySQL/MariaDB: set DATABASE_URL=mysql://...")
    from recognition.evaluation.corpus import (
        collect,
        install_packages,
        link_folder,
        packages_for,
        split_holdout,
    )

    install_packages(packages_for(args.conditions))
    known, _ = split_holdout(collect(args.corpus), holdout=args.holdout, seed=args.seed)
    catalogue_dir = Path(args.corpus + "-catalogue")
    if not args.skip_ingest:
        recreate_database(database_url)
        link_folder(known, catalogue_dir)

    setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection

    from catalog.bulk import ingest_directory
    from catalog.models import Song
    from catalog.selectors import table_size_bytes
    from recognition import conf
    from recognition.evaluation import clips, summary

    report: dict = {
        "database": connection.vendor,
        "params": conf.fingerprint_params().__dict__,
        "version": conf.fingerprint_params().version,
    }
    if not args.skip_ingest:
        call_command("migrate", verbosity=0)
        print(f"ingesting {len(known)} tracks with {args.workers} workers ...", flush=True)
        ingested = ingest_directory(catalogue_dir, workers=args.workers)
        report["ingest"] = {
            "songs": ingested.new,
            "failed": ingested.failed,
            "audio_hours": ingested.audio_s / 3600,
            "fingerprints": ingested.fingerprints,
            "seconds": ingested.elapsed_s,
            "realtime_factor": ingested.realtime_factor,
        }
        print(
            f"  {ingested.new} songs, {ingested.audio_s / 3600:.2f} h, {ingested.fingerprints} fingerprints in "
            f"{ingested.elapsed_s:.1f} s: {ingested.realtime_factor:.0f}x realtime",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE catalog_fingerprint")
        cursor.fetchall()
    sizes = table_size_bytes()
    songs = list(Song.objects.all())
    fingerprints = sum(s.fingerprint_count for s in songs)
    minutes = sum(s.duration_s for s in songs) / 60
    report["size"] = {
        "songs": len(songs),
        "audio_minutes": minutes,
        "fingerprints": fingerprints,
        "fingerprint_table_bytes": sizes["fingerprint"],
        "bytes_per_fingerprint": sizes["fingerprint"] / fingerprints,
        "kb_per_audio_minute": (sizes["fingerprint"] + (sizes["song"] or 0)) / 1000 / minutes,
        "fingerprints_per_audio_minute": fingerprints / minutes,
    }
    print(
        f"  size: {report['size']['bytes_per_fingerprint']:.1f} bytes per fingerprint, "
        f"{report['size']['kb_per_audio_minute']:.0f} kB per minute of audio",
        flush=True,
    )

    # The corpus holds the catalogued and the held-out tracks: find_tracks tells them apart by
    # content SHA-1, as `manage.py evaluate` does.
    scan = clips.find_tracks(args.corpus)
    positives = [t for t in scan.tracks if t.song_id is not None]
    negatives = [t for t in scan.tracks if t.song_id is None]
    specs = clips.plan_clips(
        positives + negatives,
        lengths_s=args.lengths,
        conditions=args.conditions,
        clips_per_song=args.clips_per_song,
        padding_s=args.padding,
        seed=args.seed,
    )
    print(
        f"querying {len(specs)} clips ({len(positives)} catalogued tracks, {len(negatives)} unknown) ...",
        flush=True,
    )
    started = time.perf_counter()
    done = [0]

    def tick(outcome):
        done[0] += 1
        if done[0] % 200 == 0:
            print(f"  {done[0]}/{len(specs)}", flush=True)

    outcomes = clips.run_clips(specs, seed=args.seed, on_clip=tick)
    totals = summary.summarise(outcomes)
    report["queries"] = {"clips": len(specs), "seconds": time.perf_counter() - started}
    report["summary"] = totals
    report["outcomes"] = [o.as_dict() for o in outcomes]
    print(summary.format_table(totals))
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(report, indent=1))
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
