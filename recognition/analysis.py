"""Turning a file into what the catalogue stores: identity, tags, duration and hashes.

No Django here: bulk ingest runs this in worker processes and only the parent writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine.audio import decode_chunks, file_sha1
from .engine.params import FingerprintParams
from .engine.stream import Hashes, StreamingFingerprinter


@dataclass(frozen=True)
class Tags:
    title: str = ""
    artist: str = ""
    album: str = ""


@dataclass(frozen=True)
class TrackAnalysis:
    path: str
    sha1: str
    tags: Tags
    duration_s: float  # of the decoded audio (up to fingerprint_limit_s)
    hashes: np.ndarray  # int64 [shape=(n,)]
    offsets_frames: np.ndarray  # int64 [shape=(n,)]
    params_version: str


def read_tags(path: str | os.PathLike) -> Tags:
    """Title, artist and album from the file's tags (any format mutagen reads), else empty."""
    try:
        import mutagen

        tagged = mutagen.File(path, easy=True)
    except Exception:  # tags are a convenience: a file mutagen cannot parse may still decode
        return Tags()
    if not tagged or not tagged.tags:
        return Tags()

    def first(key: str) -> str:
        try:
            values = tagged.tags.get(key) or []
        except (KeyError, ValueError, TypeError):
            return ""
        return str(values[0]).strip()[:255] if values else ""

    return Tags(title=first("title"), artist=first("artist"), album=first("album"))


def title_from_filename(path: str | os.PathLike) -> str:
    """A readable title from a file name: stem with underscores as spaces."""
    stem = Path(path).stem.replace("_", " ").strip()
    return " ".join(stem.split())[:255] or "untitled"


class TrackTooLong(Exception):
    """The track's audio runs past the duration limit (found while decoding, which then stops)."""

    def __init__(self, name: str, max_duration_s: float) -> None:
        super().__init__(f"{name} is longer than the limit of {max_duration_s:g} s of audio.")
        self.max_duration_s = max_duration_s


def analyse_file(
    path: str | os.PathLike,
    params: FingerprintParams,
    *,
    sha1: str | None = None,
    max_duration_s: float | None = None,
) -> TrackAnalysis:
    """Decode and fingerprint one track, a chunk at a time: memory stays flat whatever its length.

    Raises AudioDecodeError for anything not audio, and TrackTooLong as soon as more than
    max_duration_s of audio has been decoded.
    """
    sha1 = sha1 or file_sha1(path)
    fingerprinter = StreamingFingerprinter(params)
    parts: list[Hashes] = []
    n_samples = 0
    for chunk in decode_chunks(path, sample_rate_hz=params.sample_rate_hz, limit_s=params.fingerprint_limit_s):
        n_samples += len(chunk)
        if max_duration_s is not None and n_samples > max_duration_s * params.sample_rate_hz:
            raise TrackTooLong(Path(path).name, max_duration_s)
        parts.append(fingerprinter.push(chunk))
    parts.append(fingerprinter.flush())
    hashes = Hashes.concat(parts)
    return TrackAnalysis(
        path=str(path),
        sha1=sha1,
        tags=read_tags(path),
        duration_s=n_samples / params.sample_rate_hz,
        hashes=hashes.hashes,
        offsets_frames=hashes.offsets_frames,
        params_version=params.version,
    )
