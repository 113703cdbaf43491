"""Ingest throughput of `fingerprint_dir --queue` with 1, 2, ... Celery workers, on real music.

    .venv/bin/python -m benchmarks.queue_ingest --database-url mysql://root@127.0.0.1:3306/jamjar_bench \\
        --redis-url redis://127.0.0.1:6379/6 --broker-url redis://127.0.0.1:6379/8 --tracks 12 --workers 1 2

For each worker count: empty the catalogue of the database given (it must be a scratch one:
the script refuses a catalogue that has songs unless --wipe), start that many
`celery -A jamjar_site worker --pool=solo` processes, queue a folder of real tracks (Debian's
game-music packages, recognition/evaluation/corpus.py) and time the command until the last file is in.
--in-process adds plain `fingerprint_dir --workers N` runs (no queue) for comparison.
Prints one row per run: files, minutes of audio, seconds, and times real time.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recognition.evaluation import corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(tempfile.gettempdir()) / "jamjar-corpus"

COUNT_SONGS = "from catalog.models import Song; print(Song.objects.count())"
AUDIO_SECONDS = (
    "from django.db.models import Sum; from catalog.models import Song; "
    "print(Song.objects.aggregate(s=Sum('duration_s'))['s'] or 0)"
)
WIPE = (
    "from catalog import services; from catalog.models import Song; "
    "services.delete_songs(list(Song.objects.values_list('pk', flat=True)))"
)


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: some files failed, reported in the row
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def worker_command(name: str) -> list[str]:
    """A Celery worker process that takes one task at a time (no pool of its own)."""
    return [
        sys.executable, "-m", "celery", "-A", "jamjar_site", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h",
    ]  # fmt: skip


def start_workers(env: dict, count: int, logs: Path) -> list[subprocess.Popen]:
    workers = []
    for number in range(count):
        log = logs / f"worker-{number}.log"
        workers.append(
            subprocess.Popen(
                worker_command(f"bench{number}"),
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 120
    while not all(" ready." in (logs / f"worker-{n}.log").read_text(errors="replace") for n in range(count)):
        if time.monotonic() > deadline:
            raise SystemExit(f"workers not ready; see {logs}")
        time.sleep(0.2)
    return workers


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def run(env: dict, folder: Path, *, queue_workers: int = 0, in_process_workers: int = 0) -> tuple[float, str]:
    manage(env, "shell", "-v", "0", "-c", WIPE)
    workers = []
    with tempfile.TemporaryDirectory(prefix="jamjar-bench-logs-") as logs:
        try:
            if queue_workers:
                workers = start_workers(env, queue_workers, Path(logs))
                args = ["--queue"]
            else:
                args = ["--workers", str(in_process_workers)]
            started = time.perf_counter()
            out = manage(env, "fingerprint_dir", str(folder), "--no-progress", *args)
            elapsed_s = time.perf_counter() - started
        finally:
            stop(workers)
    return elapsed_s, out.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a scratch database: its catalogue is emptied")
    parser.add_argument("--redis-url", required=True, help="Django's cache (batch progress)")
    parser.add_argument("--broker-url", required=True, help="the Celery broker")
    parser.add_argument("--tracks", type=int, default=12)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--in-process", action="store_true", help="also time fingerprint_dir --workers N")
    parser.add_argument("--wipe", action="store_true", help="empty a catalogue that has songs")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CELERY_BROKER_URL": options.broker_url,
        "DJANGO_SETTINGS_MODULE": "jamjar_site.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-key"),
        "JAMJAR_ENV_FILE": "",
    }
    env.pop("DATABASE_REPLICA_URLS", None)
    corpus.install_packages(corpus.DEBIAN_PACKAGES)
    tracks = corpus.collect(CORPUS_DIR)
    chosen = sorted(random.Random(options.seed).sample(tracks, min(options.tracks, len(tracks))))
    folder = corpus.link_folder(chosen, CORPUS_DIR.with_name("jamjar-queue-bench"))
    manage(env, "migrate", "-v0")
    if int(manage(env, "shell", "-v", "0", "-c", COUNT_SONGS)) and not options.wipe:
        raise SystemExit("the catalogue there has songs: give a scratch database, or --wipe to empty it")

    runs = [("queue", n) for n in options.workers]
    if options.in_process:
        runs += [("in-process", n) for n in options.workers]
    print(f"{len(chosen)} tracks of {len(tracks)}, seed {options.seed}; {os.cpu_count()} CPU(s)", flush=True)
    print(
        f"{'mode':<11} {'workers':>7} {'audio min':>9} {'time s':>7} {'x realtime':>10}  summary", flush=True
    )
    for mode, count in runs:
        if mode == "queue":
            elapsed_s, summary = run(env, folder, queue_workers=count)
        else:
            elapsed_s, summary = run(env, folder, in_process_workers=count)
        audio_s = float(manage(env, "shell", "-v", "0", "-c", AUDIO_SECONDS))
        print(
            f"{mode:<11} {count:>7} {audio_s / 60:>9.1f} {elapsed_s:>7.1f} {audio_s / elapsed_s:>10.0f}  {summary}",
            flush=True,
        )
    manage(env, "shell", "-v", "0", "-c", WIPE)


if __name__ == "__main__":
    main()
