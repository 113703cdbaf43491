"""Writes to the catalogue: ingest, re-fingerprint and delete songs.

Every door (admin, commands, API) writes through these functions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from recognition import conf
from recognition.analysis import TrackAnalysis, TrackTooLong, analyse_file, title_from_filename
from recognition.engine.audio import AudioDecodeError, file_sha1
from recognition.engine.params import FingerprintParams

from .models import Fingerprint, Song

logger = logging.getLogger("jamjar.catalog")

# Rows per INSERT statement: MySQLdb turns executemany into multi-row INSERTs of this size.
INSERT_BATCH = 10_000


@dataclass(frozen=True)
class IngestResult:
    song: Song
    created: bool  # False: the same content was already catalogued


def ingest_file(
    path: str | os.PathLike,
    *,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    keep_file: bool = False,
    original_filename: str | None = None,
    params: FingerprintParams | None = None,
    max_duration_s: float | None = None,
) -> IngestResult:
    """Fingerprint one file and catalogue it, unless its content is already there.

    keep_file=True stores a copy in MEDIA_ROOT (admin and API uploads) so it can be
    re-fingerprinted later.  Raises AudioDecodeError for anything that is not audio, and
    TrackTooLong (while decoding) for more than max_duration_s of audio.
    """
    params = params or conf.fingerprint_params()
    sha1 = file_sha1(path)
    existing = Song.objects.filter(sha1=sha1).first()
    if existing is not None:
        return IngestResult(existing, False)
    analysis = analyse_file(path, params, sha1=sha1, max_duration_s=max_duration_s)
    return store_analysis(
        analysis,
        title=title,
        artist=artist,
        album=album,
        keep_file=keep_file,
        original_filename=original_filename,
    )


def store_analysis(
    analysis: TrackAnalysis,
    *,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    keep_file: bool = False,
    original_filename: str | None = None,
) -> IngestResult:
    """Write a song and all its fingerprints in one transaction: all of it, or nothing.

    Two writers racing on the same content: the unique SHA-1 lets one win; the other gets
    the winner's song back with created=False.
    """
    name = original_filename or Path(analysis.path).name
    song = Song(
        title=(title or analysis.tags.title or title_from_filename(name))[:255],
        artist=(artist if artist is not None else analysis.tags.artist)[:255],
        album=(album if album is not None else analysis.tags.album)[:255],
        duration_s=analysis.duration_s,
        sha1=analysis.sha1,
        original_filename=name[:512],
        source_path="" if keep_file else str(Path(analysis.path).resolve())[:1024],
        fingerprint_count=len(analysis.hashes),
        peaks=analysis.peaks,
        params_version=analysis.params_version,
        fingerprinted_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            if keep_file:
                store_track_file(song, analysis.path, name)
            if analysis.cover_jpeg:
                song.cover.save(f"{analysis.sha1}.jpg", ContentFile(analysis.cover_jpeg), save=False)
            song.save()
            insert_fingerprints(song.pk, analysis.hashes, analysis.offsets_frames)
    except IntegrityError:
        delete_stored_files(song)
        winner = Song.objects.filter(sha1=analysis.sha1).first()
        if winner is None:
            raise
        return IngestResult(winner, False)
    except BaseException:
        delete_stored_files(song)
        raise
    logger.info("catalogued %s (%d fingerprints)", name, len(analysis.hashes))
    return IngestResult(song, True)


class _MovableFile(File):
    """A file the storage may move into place (as Django does with its temporary uploads)."""

    def temporary_file_path(self) -> str:
        return self.name


def store_track_file(song: Song, source_path: str, name: str) -> None:
    """Copy a track into MEDIA_ROOT as song.audio; a copy that fails (a full disk) leaves nothing.

    The bytes go to a temporary file of our own beside the destination, then the storage
    moves it into place under a free name.  Storage.save itself would leave a half-written
    file behind under a name the caller never learns.
    """
    storage = song.audio.storage
    target = song.audio.field.generate_filename(song, name)
    folder = Path(storage.path(os.path.dirname(target)))
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out, open(source_path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        with open(partial, "rb") as moving:
            song.audio.name = storage.save(target, _MovableFile(moving, name=partial))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def insert_fingerprints(song_id: int, hashes: np.ndarray, offsets_frames: np.ndarray) -> None:
    """Bulk insert a song's rows, in a shuffled order.

    A song's hashes land all over the clustered key.  Inserted in key order, InnoDB takes
    each run for an append and splits pages at the insert point, leaving them half empty;
    in random order it splits in the middle and pages stay fuller (measured: 38.4 vs 34.8
    bytes per row, compressed).  Seeded by the song id so a re-run writes the same way.
    """
    order = np.random.default_rng(song_id).permutation(len(hashes))
    rows = np.column_stack(
        [hashes[order], np.full(len(order), song_id, dtype=np.int64), offsets_frames[order]]
    )
    table = connection.ops.quote_name(Fingerprint._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Fingerprint._meta.get_field(name).column)
        for name in ("hash", "song", "offset_frames")
    )
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            # One multi-row INSERT per batch, built from integers: measured 74.6k rows/s
            # against 55.5k for executemany and 77.8k for LOAD DATA LOCAL INFILE (which
            # needs local_infile enabled on both ends), on the compressed table.
            for start in range(0, len(rows), INSERT_BATCH):
                values = ",".join(f"({h},{s},{o})" for h, s, o in rows[start : start + INSERT_BATCH].tolist())
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}")
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s)"
            for start in range(0, len(rows), INSERT_BATCH):
                cursor.executemany(sql, rows[start : start + INSERT_BATCH].tolist())


def delete_fingerprints(song_ids: list[int]) -> int:
    """Remove the fingerprints of these songs in one statement; returns rows deleted."""
    if not song_ids:
        return 0
    deleted, _ = Fingerprint.objects.filter(song_id__in=song_ids).delete()
    return deleted


def delete_songs(song_ids: list[int]) -> int:
    """Delete songs, their fingerprints (one statement) and stored files; returns songs deleted."""
    songs = list(Song.objects.filter(pk__in=song_ids))
    ids = [song.pk for song in songs]
    with transaction.atomic():
        delete_fingerprints(ids)
        Song.objects.filter(pk__in=ids)._raw_delete(Song.objects.db)
    for song in songs:
        delete_stored_files(song)
    return len(ids)


def delete_stored_files(song: Song) -> None:
    """The song's copies in MEDIA_ROOT: its audio and its cover."""
    for stored in (song.audio, song.cover):
        if stored:
            stored.delete(save=False)


class SourceMissing(Exception):
    """A song's audio is neither stored nor at the path it was ingested from."""


def song_source_path(song: Song) -> str:
    if song.audio and song.audio.name and song.audio.storage.exists(song.audio.name):
        return song.audio.path
    if song.source_path and os.path.isfile(song.source_path):
        return song.source_path
    raise SourceMissing(
        f"song {song.pk} ({song}): no stored file and {song.source_path or 'no source path'} is missing"
    )


def refingerprint_song(song: Song, *, params: FingerprintParams | None = None) -> Song:
    """Replace a song's fingerprints with ones made by the current parameters, atomically."""
    params = params or conf.fingerprint_params()
    path = song_source_path(song)
    if file_sha1(path) != song.sha1:
        raise SourceMissing(f"song {song.pk} ({song}): {path} has changed since it was catalogued")
    analysis = analyse_file(path, params, sha1=song.sha1)
    with transaction.atomic():
        delete_fingerprints([song.pk])
        insert_fingerprints(song.pk, analysis.hashes, analysis.offsets_frames)
        song.fingerprint_count = len(analysis.hashes)
        song.peaks = analysis.peaks
        song.params_version = analysis.params_version
        song.duration_s = analysis.duration_s
        song.fingerprinted_at = timezone.now()
        fields = [
            "fingerprint_count",
            "peaks",
            "params_version",
            "duration_s",
            "fingerprinted_at",
            "updated_at",
        ]
        if not song.cover and analysis.cover_jpeg:  # songs catalogued before covers were read
            song.cover.save(f"{song.sha1}.jpg", ContentFile(analysis.cover_jpeg), save=False)
            fields.append("cover")
        song.save(update_fields=fields)
    return song


__all__ = [
    "AudioDecodeError",
    "IngestResult",
    "SourceMissing",
    "TrackTooLong",
    "delete_songs",
    "ingest_file",
    "insert_fingerprints",
    "refingerprint_song",
    "store_analysis",
]
