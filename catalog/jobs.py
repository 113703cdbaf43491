"""Batches (admin uploads, re-fingerprinting, fingerprint_dir --queue): item by item, progress in the cache.

Without a broker (CELERY_BROKER_URL unset, the default) a batch runs in a background thread
of the process that started it.  With one, every item is a Celery task (catalog/tasks.py)
that any `celery -A jamjar_site worker` may take, on any machine that sees the same database,
MEDIA_ROOT and files.  Either way the progress is kept in Django's cache: with Redis
(REDIS_URL) every web process can show any batch.  Each item is written in its own
transaction (catalog.services), so a batch cut short leaves whole songs and the items not
done yet, never half a song.

The runner (start, get, the broker's side) knows nothing of songs; start_uploads and
start_refingerprinting are the admin's two batches (refingerprint --queue starts the second
too), each item a call to catalog.services (fingerprint_dir --queue is
catalog.bulk.queue_directory).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from recognition import conf

from . import services
from .models import Song

logger = logging.getLogger("jamjar.catalog")

# A batch's progress is kept this long after it starts, seconds.
KEEP_S = 7 * 86400
# How often wait() looks at the progress, seconds.
POLL_S = 0.2
# Where a worker may find a batch's work functions and item dataclasses.
APPS = ("catalog.", "recognition.")


class ItemFailed(Exception):
    """An item the batch could not do; its message is shown as is."""


class QueueUnavailable(Exception):
    """The broker cannot be reached: nothing (more) could be queued."""

    def __init__(self, message: str, *, queued: int) -> None:
        super().__init__(message)
        self.queued = queued


@dataclass(frozen=True)
class Outcome:
    label: str
    ok: bool
    message: str


@dataclass
class Job:
    """A batch's progress as last read from the cache (get() reads it again)."""

    id: str
    title: str
    total: int
    started_at: datetime
    finished_at: datetime | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    queued: bool = False  # items run by Celery workers
    _reported: bool = False

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def percent(self) -> int:
        return int(100 * len(self.outcomes) / self.total) if self.total else 100

    @property
    def reported(self) -> bool:
        """The finished batch's summary has been shown (once, whichever process shows it)."""
        return self._reported

    @reported.setter
    def reported(self, value: bool) -> None:
        cache.set(_key(self.id, "reported"), bool(value), KEEP_S)
        self._reported = bool(value)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the batch is done (tests, commands); True if it is.  Reads progress again."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            fresh = get(self.id)
            if fresh is not None:
                self.__dict__.update(fresh.__dict__)
            if self.finished:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)


def _key(job_id: str, *parts: object) -> str:
    return ":".join(["jamjar", "job", job_id, *map(str, parts)])


def queue_configured() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))


def spool_folder(prefix: str) -> str:
    """A new folder for a batch's files, in MEDIA_ROOT/incoming: workers on other machines read
    them there, and a track stored from it is moved into MEDIA_ROOT, not copied again."""
    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=incoming)


def start(
    *,
    title: str,
    items: Sequence,
    label: Callable[[Any], str],
    work: Callable[[Any], str],
    cleanup_folder: str | None = None,
    queue_required: bool = False,
) -> Job:
    """Run work(item) for each item, in the background; returns the job at once.

    work returns a message for the item; raising ItemFailed (or anything else) marks the
    item failed and the batch goes on.  cleanup_folder is removed when every item is done.
    With a broker, work must be a module-level function and each item a JSON value, a
    dataclass of them or a model instance.  Items the broker will not take run in a thread
    here instead, with a warning; queue_required=True raises QueueUnavailable then.
    """
    items = list(items)
    job = Job(id=uuid.uuid4().hex, title=title, total=len(items), started_at=datetime.now(UTC))
    labels = [label(item) for item in items]
    queued = 0
    if queue_configured() and items:
        job.queued = True
        _save(job, cleanup_folder)
        try:
            queued = _enqueue(job, labels, items, work)
        except QueueUnavailable as exc:
            if queue_required:
                raise
            queued = exc.queued
            logger.warning(
                "batch %s: %s; the %d item(s) left run in this process", title, exc, len(items) - queued
            )
    else:
        _save(job, cleanup_folder)
    if queued < len(items) or not items:
        thread = threading.Thread(
            target=_run_here,
            args=(job.id, list(enumerate(zip(labels, items, strict=True)))[queued:], work, len(items)),
            name=f"jamjar-job-{job.id[:8]}",
            daemon=True,
        )
        thread.start()
    return job


def get(job_id: str) -> Job | None:
    """The batch's progress, from any process that shares the cache; None if unknown."""
    meta = cache.get(_key(job_id))
    if meta is None:
        return None
    found = cache.get_many([_key(job_id, "item", index) for index in range(meta["total"])])
    outcomes = [Outcome(*found[key]) for key in sorted(found, key=lambda key: int(key.rsplit(":", 1)[1]))]
    extra = cache.get_many([_key(job_id, "finished_at"), _key(job_id, "reported")])
    finished_at = extra.get(_key(job_id, "finished_at"))
    return Job(
        id=job_id,
        title=meta["title"],
        total=meta["total"],
        started_at=datetime.fromtimestamp(meta["started_at"], UTC),
        finished_at=None if finished_at is None else datetime.fromtimestamp(finished_at, UTC),
        outcomes=outcomes,
        queued=meta.get("queued", False),
        _reported=bool(extra.get(_key(job_id, "reported"))),
    )


def run_item(job_id: str, index: int, label: str, work: Callable[[Any], str], item: Any) -> None:
    """Do one item of a batch and record its outcome (a thread here, or a Celery worker).

    An item already recorded is not done again: a task the broker hands out twice (a worker
    lost mid-item) does not overwrite what the first run found.
    """
    if cache.get(_key(job_id, "item", index)) is not None:
        return
    try:
        outcome = Outcome(label, True, work(item))
    except ItemFailed as exc:
        outcome = Outcome(label, False, str(exc))
    except Exception as exc:  # one bad item must not end the batch
        logger.exception("batch %s: %s failed", job_id, label)
        outcome = Outcome(label, False, f"unexpected error: {exc}")
    if not cache.add(_key(job_id, "item", index), dataclasses.astuple(outcome), KEEP_S):
        return  # recorded meanwhile by another run of the same item
    cache.add(_key(job_id, "done"), 0, KEEP_S)
    if cache.incr(_key(job_id, "done")) >= cache.get(_key(job_id), {}).get("total", 0):
        _finish(job_id)


def _save(job: Job, cleanup_folder: str | None) -> None:
    meta = {
        "title": job.title,
        "total": job.total,
        "started_at": job.started_at.timestamp(),
        "queued": job.queued,
        "cleanup_folder": cleanup_folder,
    }
    cache.set(_key(job.id), meta, KEEP_S)


def _finish(job_id: str) -> None:
    folder = (cache.get(_key(job_id)) or {}).get("cleanup_folder")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    cache.set(_key(job_id, "finished_at"), time.time(), KEEP_S)


def _run_here(job_id: str, numbered: list, work: Callable, total: int) -> None:
    try:
        for index, (label, item) in numbered:
            run_item(job_id, index, label, work, item)
        if total == 0:
            _finish(job_id)
    finally:
        connections.close_all()  # this thread's database connections


# --- what goes through the broker ---------------------------------------------------------


def _enqueue(job: Job, labels: list[str], items: list, work: Callable) -> int:
    """Queue every item as a task; the number queued, or QueueUnavailable after some."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    name = function_name(work)
    if not getattr(work, "jamjar_batch_work", False):
        raise ValueError(f"{name}: mark it with catalog.jobs.batch_work to run it on Celery workers")
    payloads = [encode(item) for item in items]  # a bad item fails before anything is queued
    # By name, from the Celery app (jamjar_site/celery.py; CatalogConfig.ready registers it):
    # catalog/tasks.py imports this module, so this one does not import it back.
    run_job_item = current_app.tasks["catalog.run_job_item"]
    queued = 0
    try:
        with run_job_item.app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            for index, (label, payload) in enumerate(zip(labels, payloads, strict=True)):
                run_job_item.apply_async(
                    (job.id, index, label, name, payload),
                    connection=connection,
                    retry_policy={"max_retries": 2, "interval_start": 0.5, "interval_step": 0.5},
                )
                queued += 1
    except (OperationalError, OSError) as exc:
        raise QueueUnavailable(
            f"the task queue at {safe_url(settings.CELERY_BROKER_URL)} cannot be reached ({exc}); "
            f"{queued} of {len(items)} item(s) were queued",
            queued=queued,
        ) from exc
    return queued


def safe_url(url: str) -> str:
    """A broker URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}" if "@" in rest else url


def batch_work(work: Callable[[Any], str]) -> Callable[[Any], str]:
    """Mark a module-level function as one that workers may run as a batch's work.

    A worker runs only functions so marked, and builds only dataclasses of jamjar's own
    apps: a message in the broker names what to call, and must not name anything else.
    """
    function_name(work)
    work.jamjar_batch_work = True
    return work


def function_name(work: Callable) -> str:
    name = f"{work.__module__}:{work.__qualname__}"
    if "<" in name or "." in work.__qualname__:
        raise ValueError(f"{name}: a batch run by Celery workers needs a module-level function")
    return name


def function_named(name: str) -> Callable:
    """The batch work function called name (module:function), if it is marked as one."""
    module, _, function = name.partition(":")
    target = getattr(importlib.import_module(module), function, None) if module.startswith(APPS) else None
    if not getattr(target, "jamjar_batch_work", False):
        raise ValueError(f"{name} is not a batch work function (catalog.jobs.batch_work)")
    return target


def _dataclass_named(name: str) -> type:
    module, _, qualname = name.partition(":")
    found = getattr(importlib.import_module(module), qualname, None) if module.startswith(APPS) else None
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise ValueError(f"{name} is not a dataclass of jamjar's apps")
    return found


def encode(item: Any) -> Any:
    """An item as JSON: model instances by primary key, dataclasses field by field."""
    if isinstance(item, Model):
        return {"model": item._meta.label_lower, "pk": item.pk}
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {"dataclass": function_name(type(item)), "fields": dataclasses.asdict(item)}
    if isinstance(item, (str, int, float, bool, type(None), list, dict)):
        return item
    raise TypeError(f"{type(item).__name__} cannot be sent to a worker: give its id or a dataclass")


def decode(payload: Any) -> Any:
    if isinstance(payload, dict) and set(payload) == {"model", "pk"}:
        return from_primary(apps.get_model(payload["model"]), payload["pk"])
    if isinstance(payload, dict) and set(payload) == {"dataclass", "fields"}:
        return _dataclass_named(payload["dataclass"])(**payload["fields"])
    return payload


def from_primary(model: type[Model], pk: Any) -> Model:
    """An item's row, read from the primary: a replica may not have it yet."""
    try:
        return model._default_manager.using(DEFAULT_DB_ALIAS).get(pk=pk)
    except model.DoesNotExist:
        raise ItemFailed(f"{model._meta.verbose_name} {pk} is no longer there") from None


# --- the admin's batches ---------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedTrack:
    """One file of an admin batch, spooled out of the request (which ends before the batch does)."""

    name: str
    path: str | None
    problem: str | None = None


def start_uploads(files: Sequence) -> Job:
    """Spool the uploads now, catalogue them in the background; the size rule is checked here.

    The files go to a folder of their own (spool_folder: under MEDIA_ROOT, where workers on
    other machines find them), removed once every item is done.
    """
    folder = spool_folder("jamjar-admin-upload-")
    try:
        tracks = spool_uploads(files, folder=folder)
        return start(
            title=f"Upload of {len(tracks)} file(s)",
            items=tracks,
            label=lambda track: track.name,
            work=ingest_uploaded,
            cleanup_folder=folder,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def spool_uploads(files: Sequence, *, folder: str) -> list[UploadedTrack]:
    """Each upload spooled into folder (services.spool_upload), or the reason it will not be."""
    tracks: list[UploadedTrack] = []
    for upload in files:
        if upload.size == 0:
            tracks.append(UploadedTrack(upload.name, None, "the file is empty"))
            continue
        try:
            services.refuse_oversized_track(upload.size)
        except services.TrackTooLarge as exc:
            tracks.append(UploadedTrack(upload.name, None, str(exc)))
            continue
        tracks.append(UploadedTrack(upload.name, services.spool_upload(upload, folder=folder)))
    return tracks


@batch_work
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


@dataclass(frozen=True)
class SongToRefingerprint:
    """One song of a re-fingerprinting batch, and the parameter version the batch is for."""

    song_id: int
    params_version: str


def start_refingerprinting(songs: Sequence[Song], *, queue_required: bool = False) -> Job:
    """Re-fingerprint each song with the current parameters, one item a song (refingerprint).

    queue_required=True (refingerprint --queue): QueueUnavailable rather than running here.
    """
    version = conf.fingerprint_params().version
    labels = {song.pk: str(song) for song in songs}
    return start(
        title=f"Re-fingerprinting {len(songs)} song(s) with {version}",
        items=[SongToRefingerprint(song.pk, version) for song in songs],
        label=lambda item: labels[item.song_id],
        work=refingerprint,
        queue_required=queue_required,
    )


@batch_work
def refingerprint(item: SongToRefingerprint) -> str:
    # A worker on another machine may have been given other parameters: it must not write
    # fingerprints of a version the batch did not ask for.
    params = conf.fingerprint_params()
    if params.version != item.params_version:
        raise ItemFailed(
            f"this worker fingerprints with {params.version}, not {item.params_version} as the batch "
            "asks: give every worker the same JAMJAR_FINGERPRINT"
        )
    song = from_primary(Song, item.song_id)
    try:
        services.refingerprint_song(song, params=params)
    except services.SourceMissing as exc:
        raise ItemFailed(str(exc)) from exc
    except services.AudioDecodeError as exc:
        raise ItemFailed(f"not audio jamjar can read any more: {exc}") from exc
    return f"{song.fingerprint_count} fingerprints ({song.params_version})"
