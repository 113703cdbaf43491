"""Grow a MariaDB catalogue of real music with synthetic songs and measure jamjar at each size.

    .venv/bin/python -m benchmarks.scale --sizes 10M 50M 100M

It starts a MariaDB server of its own (own data directory, port, tmpdir and a buffer pool
sized for the largest catalogue), catalogues the benchmark's music (recognition/evaluation/corpus.py,
the same tracks and held-out share as `manage.py benchmark`), then adds synthetic songs
until the catalogue holds each requested number of fingerprints, and at the real catalogue
and at every size measures: 5 s match time (median, p95) per condition, rows drawn per
query, top-1 per condition, false positives on the held-out music, the fingerprint table's
bytes, and ingest speed (x realtime) into that table against an empty one.

A synthetic song is a copy of a real song's fingerprints (same anchor offsets) whose hash
values are permuted: the catalogue's distinct hash values, ordered by how many rows hold
them, are cut into blocks of 16 values of (nearly) equal popularity, and each value is sent
to another of its block by a random 16-cycle (no value maps to itself), a new cycle for each
round of copies.  A lookup of any hash then draws about as many rows from a synthetic song
as from a real one, while no synthetic song aligns with real music; the run checks both.

Everything goes through the product: fingerprints from catalog.bulk (the real music),
songs through the ORM, rows through catalog.services.insert_fingerprints, queries through
recognition.services; rows drawn are counted by wrapping catalog.selectors.fingerprint_rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recognition.evaluation.corpus import collect, install_packages, link_folder, packages_for, split_holdout
from recognition.evaluation.degrade import condition_argument

ROOT = Path(__file__).resolve().parents[1]

# Distinct hash values that one synthetic permutation shuffles among themselves.
PERMUTATION_BLOCK = 16
# Buffer pool per fingerprint row: compressed InnoDB pages are held both compressed and
# uncompressed, about 35 + 32 bytes a row, plus room for the song table and the change buffer.
BUFFER_POOL_BYTES_PER_ROW = 70
BUFFER_POOL_FLOOR_BYTES = 512 << 20
BUFFER_POOL_MAX_SHARE = 0.6  # of the memory available when the run starts
SERVER_START_TIMEOUT_S = 120
CLIP_LENGTH_S = 5.0
SYNTHETIC_ALBUM = "jamjar-scale synthetic"


def parse_size(text: str) -> int:
    """ "10M" -> 10_000_000, "500k" -> 500_000, "2.5M", "1G", or a plain number of fingerprints."""
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    text = text.strip().lower()
    try:
        if text[-1:] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 10M or 500k") from None


def parse_settings(text: str) -> dict:
    """A JSON object of JAMJAR service settings, for --compare."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON: {exc}") from None
    if not isinstance(value, dict) or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: give a JSON object of JAMJAR settings")
    return value


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=parse_size,
        default=[parse_size(s) for s in ("10M", "50M", "100M")],
        help="catalogue sizes in fingerprints (default: 10M 50M 100M)",
    )
    parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "jamjar-bench-corpus"))
    parser.add_argument(
        "--holdout", type=float, default=0.2, help="share of tracks left out of the catalogue"
    )
    parser.add_argument(
        "--conditions",
        nargs="+",
        type=condition_argument,
        default=["clean", "phone", "noise"],
        metavar="CONDITION",
        help="conditions of the 5 s clips (default: clean phone noise)",
    )
    parser.add_argument("--clips-per-song", type=int, default=2)
    parser.add_argument("--padding", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="ingest workers (default: 2)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--workdir", default="/var/tmp", help="where the server's data directory is made (default: /var/tmp)"
    )
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument(
        "--buffer-pool-mb",
        type=int,
        default=0,
        help="InnoDB buffer pool (default: sized for the largest catalogue)",
    )
    parser.add_argument(
        "--compare",
        type=parse_settings,
        default=None,
        metavar="JSON",
        help="at every size, query the clips again with these JAMJAR settings merged in "
        """(e.g. '{"staged_first_targets": 0}'), as a second row""",
    )
    parser.add_argument(
        "--index",
        action="store_true",
        help="at every size, also build the hash index in files (manage.py build_index) and "
        "query the clips again with it, as a row of its own",
    )
    parser.add_argument("--keep", action="store_true", help="leave the server's data directory behind")
    parser.add_argument("--results", default=str(ROOT / "bench-results" / "scale.json"))
    args = parser.parse_args()
    args.sizes = sorted(set(args.sizes))
    return args


def setup_django(database_url: str) -> None:
    """Django on the given database: the server this run started, not the one in .env."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
    import django

    django.setup()


# --- a MariaDB server of our own ---------------------------------------------------------


@dataclass
class Server:
    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/jamjar_scale"

    def stop(self, *, keep: bool) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not keep:
            shutil.rmtree(self.directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def buffer_pool_bytes(largest_rows: int) -> int:
    """Enough for the largest table in memory, within BUFFER_POOL_MAX_SHARE of what is available."""
    available = BUFFER_POOL_FLOOR_BYTES
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    wanted = BUFFER_POOL_FLOOR_BYTES + BUFFER_POOL_BYTES_PER_ROW * largest_rows
    chosen = max(BUFFER_POOL_FLOOR_BYTES, min(wanted, int(BUFFER_POOL_MAX_SHARE * available)))
    return (chosen >> 27) << 27  # whole 128 MB chunks, InnoDB's default chunk size


def start_server(*, workdir: str, port: int, buffer_pool: int) -> Server:
    """mariadb-install-db and mariadbd in a fresh directory the mysql user owns."""
    directory = Path(tempfile.mkdtemp(prefix="jamjar-scale-", dir=workdir))
    directory.chmod(0o755)  # mkdtemp's 0700 would keep the mysql user out
    data, tmp = directory / "data", directory / "tmp"
    tmp.mkdir()
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={data}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["chown", "-R", "mysql:mysql", str(directory)], check=True)
    port = port or free_port()
    command = [
        "mariadbd", "--no-defaults", "--user=mysql", f"--datadir={data}", f"--tmpdir={tmp}", f"--port={port}",
        f"--socket={directory / 'mysqld.sock'}", "--bind-address=127.0.0.1", "--skip-grant-tables",
        f"--innodb-buffer-pool-size={buffer_pool}", "--innodb-log-file-size=1G",
        # A benchmark catalogue can be rebuilt: no flush to disk per commit, no binary log.
        "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin", "--max-allowed-packet=256M",
        f"--log-error={directory / 'error.log'}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(directory, port, process)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (directory / "error.log").read_text(errors="replace")[-2000:]
                    if (directory / "error.log").exists()
                    else ""
                )
                server.stop(keep=True)
                sys.exit(f"MariaDB did not start (see {directory}):\n{log}")
            time.sleep(0.5)
    import MySQLdb

    connection = MySQLdb.connect(host="127.0.0.1", port=port, user="root")
    connection.cursor().execute("CREATE DATABASE jamjar_scale CHARACTER SET utf8mb4")
    connection.close()
    return server


# --- synthetic songs -----------------------------------------------------------------------


@dataclass(frozen=True)
class RealSong:
    song_id: int
    title: str
    duration_s: float
    hashes: np.ndarray  # int64 [shape=(n,)]
    offsets_frames: np.ndarray  # int64 [shape=(n,)]


class Permutations:
    """Hash permutations within blocks of PERMUTATION_BLOCK values of equal popularity.

    values: the real catalogue's distinct hash values (sorted), each with its row count.
    Ordered by (count, value), consecutive runs of PERMUTATION_BLOCK values form a block (the
    last block takes the remainder, so it holds 16 to 31 values).  Round r's permutation sends
    each value to its successor in a random cycle through its block, seeded by (seed, r).
    """

    def __init__(self, songs: list[RealSong], *, seed: int) -> None:
        self.values, counts = np.unique(np.concatenate([s.hashes for s in songs]), return_counts=True)
        by_popularity = np.lexsort((self.values, counts))  # indices into values
        n_blocks = max(1, len(self.values) // PERMUTATION_BLOCK)
        self._block_of_rank = np.minimum(np.arange(len(self.values)) // PERMUTATION_BLOCK, n_blocks - 1)
        self._by_popularity = by_popularity
        self.seed = seed
        self._cache: dict[int, np.ndarray] = {}

    def mapping(self, round_index: int) -> np.ndarray:
        """new value for each of self.values (int64 [shape=(n_values,)]) in round round_index."""
        if round_index not in self._cache:
            rng = np.random.default_rng([self.seed, round_index])
            # Within each block, a random order of its members; each goes to the next in that order.
            order = np.lexsort((rng.random(len(self.values)), self._block_of_rank))
            members = self._by_popularity[order]  # value indices, block by block, shuffled
            blocks = self._block_of_rank[order]
            successor = np.roll(members, -1)
            block_start = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
            block_end = np.r_[block_start[1:], len(members)] - 1
            successor[block_end] = members[block_start]  # close each block's cycle
            mapped = np.empty_like(self.values)
            mapped[members] = self.values[successor]
            self._cache = {round_index: mapped}
        return self._cache[round_index]

    def permute(self, hashes: np.ndarray, round_index: int) -> np.ndarray:
        return self.mapping(round_index)[np.searchsorted(self.values, hashes)]


@dataclass
class Catalogue:
    real: list[RealSong]
    permutations: Permutations
    fingerprints: int
    synthetic_ids: list[int] = field(default_factory=list)
    next_copy: int = 0  # copies made so far; copy k is round k // len(real) of song k % len(real)

    def grow_to(self, target: int, *, on_progress=None) -> dict:
        """Add synthetic songs until the catalogue holds at least target fingerprints."""
        from django.db import transaction

        from catalog.models import Song
        from catalog.services import insert_fingerprints
        from recognition import conf

        version = conf.fingerprint_params().version
        started, rows = time.perf_counter(), 0
        while self.fingerprints < target:
            round_index, source = divmod(self.next_copy, len(self.real))
            song = self.real[source]
            hashes = self.permutations.permute(song.hashes, round_index)
            with transaction.atomic():
                synthetic = Song.objects.create(
                    title=f"synthetic {round_index + 1} of {song.title}"[:255],
                    album=SYNTHETIC_ALBUM,
                    duration_s=song.duration_s,
                    sha1=hashlib.sha1(f"jamjar-scale {round_index} {song.song_id}".encode()).hexdigest(),
                    fingerprint_count=len(hashes),
                    params_version=version,
                )
                insert_fingerprints(synthetic.pk, hashes, song.offsets_frames)
            self.synthetic_ids.append(synthetic.pk)
            self.next_copy += 1
            self.fingerprints += len(hashes)
            rows += len(hashes)
            if on_progress and len(self.synthetic_ids) % 100 == 0:
                on_progress(self.fingerprints, rows / (time.perf_counter() - started))
        elapsed = time.perf_counter() - started
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed if elapsed else None}


# --- measuring -----------------------------------------------------------------------------


class RowCounter:
    """Wraps catalog.selectors.fingerprint_rows to count the rows each query draws, by song."""

    def __init__(self) -> None:
        from catalog import selectors

        self._selectors = selectors
        self._original = selectors.fingerprint_rows
        self.song_ids: list[np.ndarray] = []
        self.calls = 0

        def counted(*args, **kwargs):
            rows = self._original(*args, **kwargs)
            self.calls += 1
            if isinstance(rows, tuple) and len(rows) == 3:  # (hash, song_id, offset_frames)
                self.song_ids.append(np.asarray(rows[1]))
            return rows

        selectors.fingerprint_rows = counted

    def take(self) -> np.ndarray | None:
        """Song ids of the rows drawn since the last take (None: the lookups went elsewhere)."""
        drawn = np.concatenate(self.song_ids) if self.song_ids else np.zeros(0, dtype=np.int64)
        seen, self.song_ids, self.calls = self.calls, [], 0
        return drawn if seen else None

    def remove(self) -> None:
        self._selectors.fingerprint_rows = self._original


def ingest_probe(folder: Path, *, workers: int) -> dict:
    """Ingest the probe tracks with the product's bulk ingest, time it, then delete them again."""
    from catalog.bulk import ingest_directory
    from catalog.selectors import songs_by_sha1
    from catalog.services import delete_songs
    from recognition.engine.audio import file_sha1

    summary = ingest_directory(folder, workers=workers)
    ids = [song_id for song_id, _ in songs_by_sha1(file_sha1(p) for p in sorted(folder.iterdir())).values()]
    delete_songs(ids)
    return {
        "tracks": summary.new,
        "audio_s": summary.audio_s,
        "seconds": summary.elapsed_s,
        "realtime_factor": summary.realtime_factor,
    }


def catalogue_real_music(folder: Path, *, workers: int) -> tuple[list[RealSong], dict]:
    """Bulk-ingest the catalogued tracks, keeping each song's fingerprints as they are stored."""
    from catalog import services
    from catalog.bulk import ingest_directory

    kept: list[RealSong] = []
    original = services.store_analysis

    def keeping(analysis, **options):
        result = original(analysis, **options)
        if result.created:
            kept.append(
                RealSong(
                    result.song.pk,
                    result.song.title,
                    analysis.duration_s,
                    analysis.hashes,
                    analysis.offsets_frames,
                )
            )
        return result

    services.store_analysis = keeping
    try:
        summary = ingest_directory(folder, workers=workers)
    finally:
        services.store_analysis = original
    report = {
        "songs": summary.new, "failed": summary.failed, "audio_hours": summary.audio_s / 3600,
        "fingerprints": summary.fingerprints, "seconds": summary.elapsed_s, "realtime_factor": summary.realtime_factor,
    }  # fmt: skip
    return sorted(kept, key=lambda s: s.song_id), report


def measure(catalogue: Catalogue, specs, *, seed: int, counter: RowCounter) -> dict:
    """Run the clips against the catalogue as it is; accuracy, times and rows drawn."""
    from django.db import connection

    from catalog.models import Song
    from catalog.selectors import table_size_bytes
    from recognition.evaluation import clips

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE catalog_fingerprint")
        cursor.fetchall()
    real_ids = np.array(sorted(s.song_id for s in catalogue.real))
    n_real, n_synthetic = len(real_ids), len(catalogue.synthetic_ids)
    synthetic_set = set(catalogue.synthetic_ids)
    drawn: list[dict] = []
    counter.take()

    def on_clip(outcome):
        song_ids = counter.take()
        if song_ids is None:
            drawn.append({})
            return
        is_real = np.isin(song_ids, real_ids)
        own = song_ids == (outcome.song_id if outcome.song_id is not None else -1)
        other_real_songs = n_real - (1 if outcome.song_id is not None else 0)
        drawn.append({
            "rows": int(len(song_ids)),
            "per_real_song": float(np.sum(is_real & ~own)) / other_real_songs if other_real_songs else None,
            "per_synthetic_song": float(np.sum(~is_real)) / n_synthetic if n_synthetic else None,
        })  # fmt: skip

    outcomes = clips.run_clips(specs, seed=seed, on_clip=on_clip)
    by_condition: dict[str, list] = defaultdict(list)
    for outcome in outcomes:
        by_condition[outcome.condition].append(outcome)
    conditions = {}
    for condition, group in by_condition.items():
        positives = [o for o in group if o.positive]
        negatives = [o for o in group if not o.positive]
        times_ms = [1000 * o.match_time_s for o in group]
        conditions[condition] = {
            "positives": len(positives),
            "top1": sum(o.correct for o in positives) / len(positives) if positives else None,
            "negatives": len(negatives),
            "false_positives": sum(o.false_positive for o in negatives),
            "median_match_ms": float(np.median(times_ms)) if times_ms else None,
            "p95_match_ms": float(np.percentile(times_ms, 95)) if times_ms else None,
        }
    counted = [d for d in drawn if d]
    real_rates = [d["per_real_song"] for d in counted if d.get("per_real_song") is not None]
    synthetic_rates = [d["per_synthetic_song"] for d in counted if d.get("per_synthetic_song") is not None]
    songs = Song.objects.count()
    titles = dict(
        Song.objects.filter(pk__in={o.predicted_song_id for o in outcomes if o.false_positive}).values_list(
            "pk", "title"
        )
    )
    return {
        "songs": songs,
        "synthetic_songs": n_synthetic,
        "fingerprints": catalogue.fingerprints,
        "fingerprint_table_bytes": table_size_bytes()["fingerprint"],
        "conditions": conditions,
        "clips": len(outcomes),
        "rows_per_query_median": float(np.median([d["rows"] for d in counted])) if counted else None,
        "rows_per_query_mean": float(np.mean([d["rows"] for d in counted])) if counted else None,
        # Rows a query draws from one song it is not a clip of, averaged over queries.
        "rows_per_real_song": float(np.mean(real_rates)) if real_rates else None,
        "rows_per_synthetic_song": float(np.mean(synthetic_rates)) if synthetic_rates else None,
        "synthetic_named": sum(o.predicted_song_id in synthetic_set for o in outcomes),
        "false_positive_clips": [
            {
                "path": o.path,
                "condition": o.condition,
                "start_s": o.start_s,
                "predicted_song_id": o.predicted_song_id,
                "predicted_title": titles.get(o.predicted_song_id, ""),
                "synthetic": o.predicted_song_id in synthetic_set,
            }
            for o in outcomes
            if o.false_positive
        ],
        "synthetic_best_candidate": sum(o.best_song_id in synthetic_set for o in outcomes),
    }


def measure_with_index(catalogue: Catalogue, specs, args, server: Server, counter: RowCounter) -> dict:
    """Build the hash index of the catalogue as it is (catalog.indexing, as `manage.py
    build_index` does) and run the clips again with lookups reading it."""
    from django.test import override_settings

    from catalog import index as catalogue_index
    from catalog.indexing import build_index

    built = build_index(server.directory / "index")
    started = time.perf_counter()
    with override_settings(JAMJAR_INDEX_DIR=str(built.directory)):
        catalogue_index.forget()
        indexed = measure(catalogue, specs, seed=args.seed, counter=counter)
    catalogue_index.forget()
    indexed["query_seconds"] = time.perf_counter() - started
    indexed["index_bytes"], indexed["index_build_s"] = built.bytes, built.seconds
    return indexed


def format_row(label: str, m: dict, conditions: list[str]) -> str:
    def ms(c, key):
        value = m["conditions"].get(c, {}).get(key)
        return "-" if value is None else f"{value:.0f}"

    def pct(c):
        value = m["conditions"].get(c, {}).get("top1")
        return "-" if value is None else f"{100 * value:.1f}"

    fp = sum(c["false_positives"] for c in m["conditions"].values())
    negatives = sum(c["negatives"] for c in m["conditions"].values())
    ratio = (
        (m["rows_per_synthetic_song"] / m["rows_per_real_song"])
        if m["rows_per_synthetic_song"] and m["rows_per_real_song"]
        else None
    )
    parts = [
        f"{label:>8}", f"{m['fingerprints'] / 1e6:7.1f}M", f"{m['songs']:6}",
        f"{(m['fingerprint_table_bytes'] or 0) / 1e6:7.0f}", f"{(m['fingerprint_table_bytes'] or 0) / m['fingerprints']:5.1f}",
        *(f"{ms(c, 'median_match_ms')}/{ms(c, 'p95_match_ms')}".rjust(11) for c in conditions[:2]),
        "-".rjust(9) if m["rows_per_query_median"] is None else f"{m['rows_per_query_median'] / 1000:8.1f}k",
        "-".rjust(6) if ratio is None else f"{ratio:6.2f}",
        *(pct(c).rjust(8) for c in conditions),
        f"{fp}/{negatives}".rjust(7), f"{m['synthetic_named']:5}",
        "-".rjust(6) if m.get("ingest") is None else f"{m['ingest']['realtime_factor']:5.0f}x",
    ]  # fmt: skip
    return " ".join(parts)


def format_header(conditions: list[str]) -> str:
    parts = [
        f"{'catalog':>8}", f"{'fprints':>8}", f"{'songs':>6}", f"{'MB':>7}", f"{'B/row':>5}",
        *(f"{c} ms".rjust(11) for c in conditions[:2]), f"{'rows/q':>9}", f"{'syn/re':>6}",
        *(c.rjust(8) for c in conditions), f"{'FP':>7}", f"{'synN':>5}", f"{'ingest':>6}",
    ]  # fmt: skip
    return " ".join(parts)


def _stop(signum, frame) -> None:
    raise SystemExit(f"stopped by {signal.Signals(signum).name}")


def stop_on_signals() -> dict:
    """Make SIGTERM and SIGHUP (and SIGINT, even where a shell started the run with it
    ignored) unwind the run, so that its MariaDB server is stopped and its data removed.
    Returns the handlers replaced."""
    replaced = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
    replaced[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    return replaced


def main() -> None:
    args = parse_args()
    stop_on_signals()
    install_packages(packages_for(args.conditions))
    known, unknown = split_holdout(collect(args.corpus), holdout=args.holdout, seed=args.seed)
    catalogue_dir = link_folder(known, args.corpus + "-catalogue")
    probe_dir = link_folder(unknown, args.corpus + "-scale-probe")
    pool = args.buffer_pool_mb << 20 if args.buffer_pool_mb else buffer_pool_bytes(args.sizes[-1])
    server = start_server(workdir=args.workdir, port=args.port, buffer_pool=pool)
    print(
        f"MariaDB on port {server.port}, data in {server.directory}, buffer pool {pool >> 20} MB", flush=True
    )
    report: dict = {"arguments": dict(vars(args)), "buffer_pool_bytes": pool, "sizes": []}
    counter = None
    try:
        os.environ["DEBUG"] = "0"  # Django would keep every INSERT of the run in connection.queries
        setup_django(server.url)
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import override_settings

        from recognition import conf
        from recognition.evaluation import clips

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            report["server"] = cursor.fetchone()[0]
        report["params_version"] = conf.fingerprint_params().version

        print(f"ingest into an empty table: {len(unknown)} held-out tracks, then removed ...", flush=True)
        report["ingest_empty"] = ingest_probe(probe_dir, workers=args.workers)
        print(f"  {report['ingest_empty']['realtime_factor']:.0f}x realtime", flush=True)
        print(f"cataloguing {len(known)} tracks ...", flush=True)
        real, report["ingest_real"] = catalogue_real_music(catalogue_dir, workers=args.workers)
        print(
            f"  {report['ingest_real']['songs']} songs, {report['ingest_real']['fingerprints']} fingerprints, "
            f"{report['ingest_real']['realtime_factor']:.0f}x realtime",
            flush=True,
        )
        catalogue = Catalogue(
            real, Permutations(real, seed=args.seed), fingerprints=sum(len(s.hashes) for s in real)
        )
        report["distinct_hash_values"] = int(len(catalogue.permutations.values))

        scan = clips.find_tracks(args.corpus)
        specs = clips.plan_clips(
            scan.tracks,
            lengths_s=[CLIP_LENGTH_S],
            conditions=args.conditions,
            clips_per_song=args.clips_per_song,
            padding_s=args.padding,
            seed=args.seed,
        )
        print(
            f"{len(specs)} clips per size ({scan.positives} catalogued tracks, {scan.negatives} held out)",
            flush=True,
        )
        counter = RowCounter()
        print(format_header(args.conditions), flush=True)
        targets = [("real", 0)] + [(f"{size / 1e6:g}M", size) for size in args.sizes]
        for label, target in targets:
            growth = catalogue.grow_to(
                target,
                on_progress=lambda n, rate: print(
                    f"  ... {n / 1e6:.1f}M fingerprints, inserting {rate / 1000:.0f}k rows/s", flush=True
                ),
            )
            started = time.perf_counter()
            measured = measure(catalogue, specs, seed=args.seed, counter=counter)
            measured["query_seconds"] = time.perf_counter() - started
            if args.compare:
                started = time.perf_counter()
                with override_settings(JAMJAR={**getattr(settings, "JAMJAR", {}), **args.compare}):
                    compared = measure(catalogue, specs, seed=args.seed, counter=counter)
                compared["query_seconds"] = time.perf_counter() - started
                compared["settings"] = args.compare
                measured["compared"] = compared
            if args.index:
                measured["indexed"] = measure_with_index(catalogue, specs, args, server, counter)
            measured["growth"] = growth
            measured["ingest"] = ingest_probe(probe_dir, workers=args.workers)
            measured["label"] = label
            report["sizes"].append(measured)
            print(format_row(label, measured, args.conditions), flush=True)
            if args.compare:
                compared["ingest"] = None  # measured once a size, in the row above
                print(format_row(f"{label} cmp", compared, args.conditions), flush=True)
            if args.index:
                indexed = measured["indexed"]
                print(format_row(f"{label} idx", {**indexed, "ingest": None}, args.conditions), flush=True)
                print(
                    f"  index: {indexed['index_bytes'] / 1e6:.0f} MB, built in {indexed['index_build_s']:.0f} s",
                    flush=True,
                )
            Path(args.results).parent.mkdir(parents=True, exist_ok=True)
            Path(args.results).write_text(json.dumps(report, indent=1))
    finally:
        if counter:
            counter.remove()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not have been set up
            pass
        server.stop(keep=args.keep)
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
