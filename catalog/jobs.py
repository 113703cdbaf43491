"""Admin batches (many uploads, re-fingerprinting) run in a background thread, progress kept in memory.

The runner (start, get) knows nothing of songs; start_uploads and start_refingerprinting
are the two batches the admin starts, each item a call to catalog.services.

Deliberately small: the progress lives in this server process, so with several worker
processes a progress page may land in another one and say it does not know the batch.
Each item is written in its own transaction (catalog.services), so a batch cut short by
a restart leaves whole songs and the items not done yet, never half a song.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.utils import timezone

from recognition import conf

from . import services
from .models import Song

logger = logging.getLogger("jamjar.catalog")

# Finished batches are forgotten beyond this many.
KEEP_JOBS = 50


class ItemFailed(Exception):
    """An item the batch could not do; its message is shown as is."""


@dataclass(frozen=True)
class Outcome:
    label: str
    ok: bool
    message: str


@dataclass
class Job:
    id: str
    title: str
    total: int
    started_at: Any = field(default_factory=timezone.now)
    finished_at: Any = None
    # Appended by the worker thread only; readers take a copy (list appends are atomic).
    outcomes: list[Outcome] = field(default_factory=list)
    reported: bool = False
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in list(self.outcomes) if not outcome.ok]

    @property
    def percent(self) -> int:
        return int(100 * len(self.outcomes) / self.total) if self.total else 100

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the batch is done (tests, commands); True if it is."""
        return self._done.wait(timeout_s)


_jobs: OrderedDict[str, Job] = OrderedDict()
_lock = threading.Lock()


def start(
    *,
    title: str,
    items: Sequence,
    label: Callable[[Any], str],
    work: Callable[[Any], str],
    cleanup: Callable[[], None] | None = None,
) -> Job:
    """Run work(item) for each item in a background thread; returns the job at once.

    work returns a message for the item; raising ItemFailed (or anything else) marks the
    item failed and the batch goes on.  cleanup runs at the end whatever happened.
    """
    job = Job(id=uuid.uuid4().hex, title=title, total=len(items))
    with _lock:
        _jobs[job.id] = job
        while len(_jobs) > KEEP_JOBS:
            oldest = next(iter(_jobs.values()))
            if not oldest.finished:
                break
            _jobs.popitem(last=False)
    thread = threading.Thread(
        target=_run,
        args=(job, list(items), label, work, cleanup),
        name=f"jamjar-job-{job.id[:8]}",
        daemon=True,
    )
    thread.start()
    return job


def get(job_id: str) -> Job | None:
    with _lock:
        return _jobs.get(job_id)


def _run(job: Job, items: list, label: Callable, work: Callable, cleanup: Callable | None) -> None:
    try:
        for item in items:
            name = label(item)
            try:
                job.outcomes.append(Outcome(name, True, work(item)))
            except ItemFailed as exc:
                job.outcomes.append(Outcome(name, False, str(exc)))
            except Exception as exc:  # one bad item must not end the batch
                logger.exception("batch %s: %s failed", job.title, name)
                job.outcomes.append(Outcome(name, False, f"unexpected error: {exc}"))
    finally:
        try:
            if cleanup is not None:
                cleanup()
        finally:
            connections.close_all()  # this thread's database connections
            job.finished_at = timezone.now()
            job._done.set()


@dataclass(frozen=True)
class UploadedTrack:
    """One file of an admin batch, spooled out of the request (which ends before the batch does)."""

    name: str
    path: str | None
    problem: str | None = None


def start_uploads(files: Sequence) -> Job:
    """Spool the uploads now, catalogue them in the background; the size rule is checked here."""
    tracks = spool_uploads(files)
    return start(
        title=f"Upload of {len(tracks)} file(s)",
        items=tracks,
        label=lambda track: track.name,
        work=ingest_uploaded,
        cleanup=lambda: remove_spooled(tracks),
    )


def spool_uploads(files: Sequence) -> list[UploadedTrack]:
    """Each upload spooled (services.spool_upload), or the reason it will not be."""
    tracks: list[UploadedTrack] = []
    try:
        for upload in files:
            if upload.size == 0:
                tracks.append(UploadedTrack(upload.name, None, "the file is empty"))
                continue
            try:
                services.refuse_oversized_track(upload.size)
            except services.TrackTooLarge as exc:
                tracks.append(UploadedTrack(upload.name, None, str(exc)))
                continue
            tracks.append(UploadedTrack(upload.name, services.spool_upload(upload)))
    except BaseException:
        remove_spooled(tracks)
        raise
    return tracks


def remove_spooled(tracks: Sequence[UploadedTrack]) -> None:
    """Files of a batch still spooled (a batch cut short); ingest_spooled removes the rest."""
    for track in tracks:
        if track.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(track.path)


def ingest_uploaded(track: UploadedTrack) -> str:
    if track.problem:
        raise ItemFailed(track.problem)
    try:
        result = services.ingest_spooled(track.path, name=track.name)
    except services.AudioDecodeError as exc:
        raise ItemFailed(f"not audio jamjar can read: {exc}") from exc
    except services.TrackTooLong as exc:
        raise ItemFailed(f"longer than the limit of {exc.max_duration_s:g} s of audio") from exc
    song = result.song
    if not result.created:
        return result.already_catalogued
    return f"catalogued as “{song}” (song {song.pk}, {song.fingerprint_count} fingerprints)"


def start_refingerprinting(songs: Sequence[Song]) -> Job:
    return start(
        title=f"Re-fingerprinting {len(songs)} song(s) with {conf.fingerprint_params().version}",
        items=songs,
        label=str,
        work=refingerprint,
    )


def refingerprint(song: Song) -> str:
    try:
        services.refingerprint_song(song)
    except services.SourceMissing as exc:
        raise ItemFailed(str(exc)) from exc
    except services.AudioDecodeError as exc:
        raise ItemFailed(f"not audio jamjar can read any more: {exc}") from exc
    return f"{song.fingerprint_count} fingerprints ({song.params_version})"
