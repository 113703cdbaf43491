"""Turning a file into what the catalogue stores: identity, tags, duration and hashes.

No Django here: bulk ingest runs this in worker processes and only the parent writes.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine.audio import decode_chunks, file_sha1
from .engine.params import FingerprintParams
from .engine.stream import Hashes, StreamingFingerprinter
from .engine.verify import pack_peaks


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
    peaks: bytes = b""  # the peaks the hashes were paired from, engine.verify.pack_peaks
    cover_jpeg: bytes | None = None  # the embedded picture as a thumbnail, if the file has one


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


# Cover thumbnails: the longer side at most this many pixels (twice the page's 160 px box,
# for high-density screens), JPEG at this quality.
COVER_MAX_PX = 320
COVER_JPEG_QUALITY = 85
# ID3 and FLAC picture type of the front cover; any picture is taken when there is none.
FRONT_COVER = 3


def embedded_picture(path: str | os.PathLike) -> bytes | None:
    """The image bytes of a file's front cover: ID3 APIC, FLAC or Vorbis comment pictures, MP4 covr."""
    try:
        import mutagen
        from mutagen.flac import Picture

        tagged = mutagen.File(path)
    except Exception:  # as with tags: a file mutagen cannot parse may still be audio
        return None
    if tagged is None:
        return None
    pictures: list[tuple[int, bytes]] = []  # (picture type, data)
    for picture in getattr(tagged, "pictures", None) or []:  # FLAC
        pictures.append((picture.type, picture.data))
    tags = tagged.tags
    if tags is not None:
        if hasattr(tags, "getall"):  # ID3, in mp3, aiff and wav files
            pictures += [(frame.type, frame.data) for frame in tags.getall("APIC")]
        try:
            covr = tags.get("covr") or []  # MP4
            blocks = tags.get("metadata_block_picture") or []  # Ogg Vorbis and Opus
        except (KeyError, ValueError, TypeError):
            covr, blocks = [], []
        pictures += [(FRONT_COVER, bytes(cover)) for cover in covr]
        for block in blocks:
            try:
                picture = Picture(base64.b64decode(block))
            except Exception:
                continue
            pictures.append((picture.type, picture.data))
    if not pictures:
        return None
    pictures.sort(key=lambda picture: picture[0] != FRONT_COVER)
    return pictures[0][1]


def cover_thumbnail(data: bytes) -> bytes | None:
    """A JPEG of at most COVER_MAX_PX a side, or None if the bytes are no image Pillow reads."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((COVER_MAX_PX, COVER_MAX_PX))
            if image.mode != "RGB":  # palette, alpha, CMYK, greyscale: JPEG wants RGB
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=COVER_JPEG_QUALITY, optimize=True)
    except Exception:  # Pillow raises many types for broken or unknown images
        return None
    return out.getvalue()


def read_cover(path: str | os.PathLike) -> bytes | None:
    """The file's embedded cover as a JPEG thumbnail, or None."""
    picture = embedded_picture(path)
    return cover_thumbnail(picture) if picture else None


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
    for chunk in decode_chunks(
        path, sample_rate_hz=params.sample_rate_hz, limit_s=params.fingerprint_limit_s
    ):
        n_samples += len(chunk)
        if max_duration_s is not None and n_samples > max_duration_s * params.sample_rate_hz:
            raise TrackTooLong(Path(path).name, max_duration_s)
        parts.append(fingerprinter.push(chunk))
    parts.append(fingerprinter.flush())
    hashes = Hashes.concat(parts)
    peaks = fingerprinter.peaks()
    return TrackAnalysis(
        path=str(path),
        sha1=sha1,
        tags=read_tags(path),
        duration_s=n_samples / params.sample_rate_hz,
        hashes=hashes.hashes,
        offsets_frames=hashes.offsets_frames,
        params_version=params.version,
        peaks=pack_peaks(peaks.frames, peaks.bins),
        cover_jpeg=read_cover(path),
    )
