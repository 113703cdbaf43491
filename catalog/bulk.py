"""Bulk ingest of a folder: decode and fingerprint in worker processes, write in the parent.

Resumable by construction: a file whose content SHA-1 is catalogued is skipped before it is
decoded, and each song commits with all its fingerprints or not at all, so a killed run
leaves only whole songs and the next run finishes the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError

from recognition import conf
from recognition.analysis import TrackAnalysis, analyse_file
from recognition.engine.audio import AudioDecodeError, file_sha1

from . import jobs, selectors, services
from .workers import die_with_run

DEFAULT_EXTENSIONS = (
    ".mp3",
    ".ogg",
    ".oga",
    ".opus",
    ".flac",
    ".wav",
    ".m4a",
    ".aac",
    ".wma",
    ".aiff",
    ".aif",
    ".webm",
    ".mka",
)

# Files whose SHA-1 is checked against the catalogue in one query.
SHA1_BATCH = 64


class CatalogueLost(Exception):
    """The database went away mid-run; summary holds what was done until then."""

    def __init__(self, summary: BulkSummary, reason: str) -> None:
        super().__init__(reason)
        self.summary = summary


@dataclass
class BulkSummary:
    new: int = 0
    skipped: int = 0
    failed: int = 0
    audio_s: float = 0.0
    fingerprints: int = 0
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class FileEvent:
    """One file done: kind is "new", "skipped" or "failed"."""

    path: str
    kind: str
    audio_s: float = 0.0
    fingerprints: int = 0
    reason: str = ""


def find_audio_files(
    root: str | os.PathLike, *, extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
) -> Iterator[str]:
    """Audio files below root, by extension (case-insensitive), in a stable sorted order."""
    wanted = tuple(ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions)
    pending = [Path(root)]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subfolders.append(Path(entry.path))
            elif entry.name.lower().endswith(wanted):
                yield entry.path
        pending.extend(reversed(subfolders))


def ingest_directory(
    root: str | os.PathLike,
    *,
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
    workers: int | None = None,
    limit_s: float | None = None,
    on_file: Callable[[FileEvent], None] | None = None,
) -> BulkSummary:
    """Catalogue every new audio file below root; see the module docstring."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    params = conf.fingerprint_params()
    if limit_s is not None:
        params = params.replace(fingerprint_limit_s=limit_s)
    workers = workers or os.cpu_count() or 1
    summary = BulkSummary()
    started = time.perf_counter()
    seen: set[str] = set()

    def report(event: FileEvent) -> None:
        if event.kind == "new":
            summary.new += 1
            summary.audio_s += event.audio_s
            summary.fingerprints += event.fingerprints
        elif event.kind == "skipped":
            summary.skipped += 1
        else:
            summary.failed += 1
            summary.failures.append((event.path, event.reason))
        summary.elapsed_s = time.perf_counter() - started
        if on_file:
            on_file(event)

    def store(analysis: TrackAnalysis) -> None:
        result = services.store_analysis(analysis)
        if result.created:
            report(FileEvent(analysis.path, "new", analysis.duration_s, len(analysis.hashes)))
        else:  # another run catalogued the same content meanwhile
            report(FileEvent(analysis.path, "skipped"))

    def new_work() -> Iterator[tuple[str, str]]:
        """(path, sha1) of files not yet catalogued, checked a batch at a time."""
        batch: list[tuple[str, str]] = []

        def drain() -> Iterator[tuple[str, str]]:
            known = selectors.known_sha1s(sha1 for _, sha1 in batch)
            for path, sha1 in batch:
                if sha1 in known or sha1 in seen:
                    report(FileEvent(path, "skipped"))
                else:
                    seen.add(sha1)
                    yield path, sha1
            batch.clear()

        for path in find_audio_files(root, extensions=extensions):
            try:
                batch.append((path, file_sha1(path)))
            except OSError as exc:
                report(FileEvent(path, "failed", reason=f"cannot read: {exc.strerror or exc}"))
                continue
            if len(batch) >= SHA1_BATCH:
                yield from drain()
        yield from drain()

    try:
        _ingest(new_work, store, report, params=params, workers=workers)
    except DatabaseError as exc:
        summary.elapsed_s = time.perf_counter() - started
        raise CatalogueLost(summary, str(exc) or type(exc).__name__) from exc
    summary.elapsed_s = time.perf_counter() - started
    return summary


def queue_directory(
    root: str | os.PathLike, *, extensions: tuple[str, ...] = DEFAULT_EXTENSIONS, limit_s: float | None = None
) -> jobs.Job:
    """Queue every audio file below root for the Celery workers (fingerprint_dir --queue).

    The workers check each file's SHA-1 against the catalogue themselves, so files already
    catalogued are skipped there.  Raises QueueUnavailable when the broker cannot be reached.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    paths = [os.path.abspath(path) for path in find_audio_files(root, extensions=extensions)]
    return jobs.start(
        title=f"Fingerprinting {len(paths)} file(s) below {root}",
        items=[{"path": path, "limit_s": limit_s} for path in paths],
        label=lambda item: item["path"],
        work=ingest_queued_file,
        queue_required=True,
    )


SKIPPED = "already in the catalogue"


@jobs.batch_work
def ingest_queued_file(item: dict) -> str:
    """One file of a queued folder, on a worker: catalogued in one transaction, or skipped."""
    params = conf.fingerprint_params()
    if item.get("limit_s") is not None:
        params = params.replace(fingerprint_limit_s=item["limit_s"])
    try:
        result = services.ingest_file(item["path"], params=params)
    except AudioDecodeError as exc:
        raise jobs.ItemFailed(str(exc)) from exc
    except OSError as exc:
        raise jobs.ItemFailed(f"cannot read: {exc.strerror or exc}") from exc
    song = result.song
    if not result.created:
        return f"{SKIPPED} as “{song}” (song {song.pk})"
    return f"catalogued as “{song}” (song {song.pk}, {song.fingerprint_count} fingerprints, {song.duration_s:.1f} s)"


def summary_of(job: jobs.Job, *, elapsed_s: float) -> BulkSummary:
    """The counts of a queued folder's batch, as far as it has gone."""
    summary = BulkSummary(elapsed_s=elapsed_s)
    for outcome in job.outcomes:
        if not outcome.ok:
            summary.failed += 1
            summary.failures.append((outcome.label, outcome.message))
        elif outcome.message.startswith(SKIPPED):
            summary.skipped += 1
        else:
            summary.new += 1
    return summary


def _ingest(new_work, store, report, *, params, workers: int) -> None:
    if workers <= 1:
        for path, sha1 in new_work():
            try:
                store(analyse_file(path, params, sha1=sha1))
            except AudioDecodeError as exc:
                report(FileEvent(path, "failed", reason=str(exc)))
        return

    # Workers run recognition.analysis only (no Django) and never touch the database; a
    # forkserver child does not inherit this process's database connection.
    context = multiprocessing.get_context("forkserver")
    in_flight: dict[Future, str] = {}
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=die_with_run, initargs=(os.getpid(),)
    )
    try:

        def collect(done: set[Future]) -> None:
            for future in done:
                path = in_flight.pop(future)
                try:
                    analysis = future.result()
                except AudioDecodeError as exc:
                    report(FileEvent(path, "failed", reason=str(exc)))
                    continue
                except Exception as exc:  # a crashed worker must not stop the others
                    report(FileEvent(path, "failed", reason=f"{type(exc).__name__}: {exc}"))
                    continue
                store(analysis)

        for path, sha1 in new_work():
            in_flight[pool.submit(analyse_file, path, params, sha1=sha1)] = path
            # Bound the queue so memory stays flat on folders of any size.
            while len(in_flight) >= workers * 4:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                collect(done)
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            collect(done)
    finally:
        # On an error, files not started yet are not decoded for nothing.
        pool.shutdown(wait=True, cancel_futures=True)
