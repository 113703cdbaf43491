"""Track lists: a recording or a stream cut into songs.  One path for the command, the jobs and the monitor."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.db import transaction
from django.utils import timezone

from catalog import selectors as catalog_selectors
from recognition import conf as recognition_conf
from recognition.engine.audio import AudioDecodeError, decode_chunks, decode_url_chunks
from recognition.services import CatalogueVersionMismatch, check_catalogue_version

from . import conf
from .models import Tracklist, TracklistSegment
from .timeline import Segment, TimelineAnalyser

logger = logging.getLogger("jamjar.tracklists")

#: a file is decoded this many seconds at a time (a URL a second at a time, as it arrives)
FILE_CHUNK_S = 10.0
#: a job's progress is written at most this often, seconds of wall-clock time
PROGRESS_EVERY_S = 1.0
#: a file whose header promises this much more audio than it holds (or 1 %) is truncated, seconds
TRUNCATED_SLACK_S = 1.0


@dataclass(frozen=True)
class SongRef:
    song_id: int
    title: str
    artist: str


@dataclass(frozen=True)
class TimelineSegment:
    """A segment with its song described; times in seconds, rounded to milliseconds."""

    start_s: float
    end_s: float
    song: SongRef | None
    song_start_s: float | None
    song_end_s: float | None
    speed_ratio: float | None
    confidence: int


@dataclass(frozen=True)
class Timeline:
    file: str
    duration_s: float
    segments: list[TimelineSegment]


def is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in {"http", "https"}


def audio_chunks(source: str | os.PathLike, *, sample_rate_hz: int, seconds: float | None = None) -> Iterator:
    """The recording as float32 chunks at the engine rate: a file in FILE_CHUNK_S pieces, an
    http(s) stream as it arrives.  Raises AudioDecodeError."""
    if is_url(str(source)):
        return decode_url_chunks(
            str(source),
            sample_rate_hz=sample_rate_hz,
            limit_s=seconds,
            read_timeout_s=conf.monitor_settings().read_timeout_s,
        )
    return decode_chunks(source, sample_rate_hz=sample_rate_hz, limit_s=seconds, chunk_s=FILE_CHUNK_S)


def new_analyser(*, live: bool = False) -> TimelineAnalyser:
    """A timeline analyser on the catalogue, with the configured engine and track list settings
    (live: for a stream whose plays are recorded as they happen).
    Raises CatalogueVersionMismatch when the catalogue was fingerprinted with other parameters."""
    params = recognition_conf.fingerprint_params()
    check_catalogue_version(params)
    return TimelineAnalyser(params, conf.timeline_settings(), catalog_selectors.fingerprint_rows, live=live)


def analyse(
    source: str | os.PathLike,
    *,
    name: str | None = None,
    seconds: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Timeline:
    """Cut a recording (a file, or an http(s) stream followed until it ends or `seconds`) into songs.

    on_progress(seconds analysed) is called after each chunk.  Raises AudioDecodeError for
    anything that is not audio (also when the file turns out broken at its end: nothing is
    returned then) and CatalogueVersionMismatch.
    """
    analyser = new_analyser()
    for chunk in audio_chunks(source, sample_rate_hz=analyser.params.sample_rate_hz, seconds=seconds):
        analyser.push(chunk)
        if on_progress is not None:
            on_progress(analyser.seconds)
    if seconds is None and not is_url(str(source)):
        refuse_truncated(source, decoded_s=analyser.seconds)
    segments = analyser.finish()
    file = name or (str(source) if is_url(str(source)) else Path(source).name)
    return describe(segments, file=file, duration_s=analyser.seconds)


def describe(segments: list[Segment], *, file: str, duration_s: float) -> Timeline:
    """Segments with their songs' titles and artists (one query)."""
    songs = catalog_selectors.songs_by_id({s.song_id for s in segments if s.song_id is not None})
    described = []
    for segment in segments:
        song = songs.get(segment.song_id) if segment.song_id is not None else None
        described.append(
            TimelineSegment(
                start_s=round(segment.start_s, 3),
                end_s=round(segment.end_s, 3),
                song=SongRef(song.pk, song.title, song.artist) if song else None,
                song_start_s=None if song is None else round(segment.song_start_s, 3),
                song_end_s=None if song is None else round(segment.song_end_s, 3),
                speed_ratio=None if song is None else segment.speed_ratio,
                confidence=segment.confidence if song else 0,
            )
        )
    return Timeline(file=file, duration_s=round(duration_s, 3), segments=described)


# --- background jobs -----------------------------------------------------------------------


def create_tracklist(*, upload, user=None) -> Tracklist:
    """Store an uploaded recording and queue its job (started once the row is committed)."""
    from . import jobs

    name = os.path.basename(getattr(upload, "name", "") or "recording")[-255:]
    tracklist = Tracklist(name=name, created_by=user if user is not None and user.is_authenticated else None)
    tracklist.audio.save(name, upload, save=False)
    tracklist.save()
    transaction.on_commit(lambda: jobs.submit(tracklist.pk))
    return tracklist


def recording_duration_s(path: str | os.PathLike) -> float | None:
    """The recording's length from its header (mutagen), for progress; None when it does not say."""
    try:
        import mutagen

        info = mutagen.File(path)
        length = float(info.info.length) if info is not None else 0.0
    except Exception:  # a header mutagen cannot read: progress is then unknown, the job goes on
        return None
    return length if length > 0 else None


def refuse_truncated(path: str | os.PathLike, *, decoded_s: float) -> None:
    """Raise AudioDecodeError when the file's header promises clearly more audio than it holds.

    ffmpeg decodes a cut-off WAV, MP3 or Ogg file without complaint; a track list of half a
    recording would silently miss the rest."""
    expected_s = recording_duration_s(path)
    if expected_s is not None and decoded_s < expected_s - max(TRUNCATED_SLACK_S, 0.01 * expected_s):
        raise AudioDecodeError(
            f"{Path(path).name} is truncated: its header says {expected_s:.1f} s of audio, "
            f"only {decoded_s:.1f} s could be decoded"
        )


def run_tracklist(tracklist_id: int, *, on_progress: Callable[[Tracklist], None] | None = None) -> Tracklist:
    """Run one queued job: analyse its recording, store the segments, end done or failed.

    A job that is not queued (taken by another runner) is left alone.  The segments are
    written in one transaction with the status: a failed job has none.  The upload is removed
    at the end either way.  on_progress(tracklist) follows each progress write.
    """
    claimed = Tracklist.objects.filter(pk=tracklist_id, status=Tracklist.Status.QUEUED).update(
        status=Tracklist.Status.RUNNING, started_at=timezone.now()
    )
    tracklist = Tracklist.objects.get(pk=tracklist_id)
    if not claimed:
        return tracklist
    path = tracklist.audio.path if tracklist.audio else ""
    expected_s = recording_duration_s(path) if path else None
    last_write = [0.0]

    def progress(seconds: float) -> None:
        now = time.monotonic()
        if expected_s and now - last_write[0] >= PROGRESS_EVERY_S:
            last_write[0] = now
            tracklist.progress = min(0.99, seconds / expected_s)
            Tracklist.objects.filter(pk=tracklist.pk).update(progress=tracklist.progress)
            if on_progress is not None:
                on_progress(tracklist)

    try:
        if not path:
            raise AudioDecodeError("the job has no recording")
        timeline = analyse(path, name=tracklist.name, on_progress=progress)
    except (AudioDecodeError, CatalogueVersionMismatch) as exc:
        _fail(
            tracklist, str(exc).replace(path, tracklist.name).replace(os.path.basename(path), tracklist.name)
        )
    except Exception as exc:  # a bug must still end the job, with its reason
        logger.exception("track list %s failed", tracklist.pk)
        _fail(tracklist, f"unexpected error: {exc}")
    else:
        with transaction.atomic():
            TracklistSegment.objects.bulk_create(
                TracklistSegment(
                    tracklist=tracklist,
                    position=index,
                    start_s=segment.start_s,
                    end_s=segment.end_s,
                    song_id=segment.song.song_id if segment.song else None,
                    song_start_s=segment.song_start_s,
                    song_end_s=segment.song_end_s,
                    speed_ratio=segment.speed_ratio,
                    confidence=segment.confidence,
                )
                for index, segment in enumerate(timeline.segments)
            )
            tracklist.status, tracklist.progress = Tracklist.Status.DONE, 1.0
            tracklist.duration_s, tracklist.finished_at = timeline.duration_s, timezone.now()
            tracklist.save(update_fields=["status", "progress", "duration_s", "finished_at"])
    finally:
        if tracklist.audio:
            tracklist.audio.delete(save=False)
            Tracklist.objects.filter(pk=tracklist.pk).update(audio="")
    return tracklist


def _fail(tracklist: Tracklist, reason: str) -> None:
    tracklist.status, tracklist.error, tracklist.finished_at = Tracklist.Status.FAILED, reason, timezone.now()
    tracklist.save(update_fields=["status", "error", "finished_at"])


def timeline_of(tracklist: Tracklist) -> Timeline:
    """A finished job's timeline, as analyse() returned it (for the API, the page and the downloads)."""
    segments = []
    for row in tracklist.segments.select_related("song").order_by("position"):
        song = row.song
        segments.append(
            TimelineSegment(
                start_s=row.start_s,
                end_s=row.end_s,
                song=SongRef(song.pk, song.title, song.artist) if song else None,
                song_start_s=row.song_start_s if song else None,
                song_end_s=row.song_end_s if song else None,
                speed_ratio=row.speed_ratio if song else None,
                confidence=row.confidence if song else 0,
            )
        )
    return Timeline(file=tracklist.name, duration_s=tracklist.duration_s or 0.0, segments=segments)
