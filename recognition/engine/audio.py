"""Decoding any audio ffmpeg reads into mono float32 at the engine rate, plus PCM helpers."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .resample import resample

# A decode that takes longer than this is a hung ffmpeg, not a long file.
DECODE_TIMEOUT_S = 600


class AudioDecodeError(ValueError):
    """The input is not audio ffmpeg can decode (empty, corrupt, not audio, unreadable)."""


def ffmpeg_executable() -> str:
    """ffmpeg on PATH, else the binary shipped in the imageio-ffmpeg wheel.

    pydub is pointed at the same binary, so its encoders (used by the degradations)
    and this decoder agree.
    """
    found = os.environ.get("JAMJAR_FFMPEG") or shutil.which("ffmpeg")
    if not found:
        import imageio_ffmpeg

        found = imageio_ffmpeg.get_ffmpeg_exe()
    from pydub import AudioSegment

    AudioSegment.converter = found
    return found


def decode_file(
    path: str | os.PathLike, *, sample_rate_hz: int, limit_s: float | None = None, start_s: float = 0.0
) -> np.ndarray:
    """Decode a file to mono float32 [shape=(n_samples,)] in [-1, 1] at sample_rate_hz.

    ffmpeg downmixes and resamples (with its own anti-aliasing filter), so a 48 kHz copy
    of a 44.1 kHz track lands on the same samples.  limit_s keeps only the first seconds
    after start_s.  Raises AudioDecodeError with ffmpeg's reason for anything that is not
    decodable audio.  A whole file is held in memory: for long ones, use decode_chunks.
    """
    chunks = list(decode_chunks(path, sample_rate_hz=sample_rate_hz, limit_s=limit_s, start_s=start_s))
    return np.concatenate(chunks)


def decode_chunks(
    path: str | os.PathLike,
    *,
    sample_rate_hz: int,
    limit_s: float | None = None,
    start_s: float = 0.0,
    chunk_s: float = 30.0,
) -> Iterator[np.ndarray]:
    """decode_file, a chunk of at most chunk_s seconds at a time (float32 [shape=(n,)] each),
    so that memory does not grow with the length of the file.  The decoder is stopped when
    the caller stops iterating.  Raises AudioDecodeError as decode_file does, at the end
    (ffmpeg's verdict comes when it exits)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise AudioDecodeError(f"{path} is not a file")
    if size == 0:
        raise AudioDecodeError(f"{path.name} is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioDecodeError(f"cannot read {path}: permission denied")
    command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    if start_s:
        command += ["-ss", f"{start_s:.3f}"]
    command += ["-i", str(path)]
    yield from _ffmpeg_chunks(
        command, name=path.name, sample_rate_hz=sample_rate_hz, limit_s=limit_s, chunk_s=chunk_s,
        timeout_s=DECODE_TIMEOUT_S,
    )  # fmt: skip


def decode_url_chunks(
    url: str,
    *,
    sample_rate_hz: int,
    limit_s: float | None = None,
    chunk_s: float = 1.0,
    read_timeout_s: float = 15.0,
) -> Iterator[np.ndarray]:
    """An http(s) stream (or anything else ffmpeg opens by URL), decoded as decode_chunks does,
    float32 [shape=(n,)] chunks of at most chunk_s seconds as they arrive, until the stream
    ends or limit_s seconds.  There is no overall time limit (a live stream never ends); a
    server that sends nothing for read_timeout_s ends it.  Raises AudioDecodeError."""
    command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    command += ["-rw_timeout", str(int(read_timeout_s * 1_000_000)), "-i", url]
    yield from _ffmpeg_chunks(
        command, name=url, sample_rate_hz=sample_rate_hz, limit_s=limit_s, chunk_s=chunk_s, timeout_s=None
    )


def _ffmpeg_chunks(
    command: list[str],
    *,
    name: str,
    sample_rate_hz: int,
    limit_s: float | None,
    chunk_s: float,
    timeout_s: float | None,
) -> Iterator[np.ndarray]:
    """Run ffmpeg (command: up to and including its input) to mono 16-bit PCM; yield float32 chunks."""
    command = [*command, "-vn", "-sn", "-dn"]
    if limit_s is not None:
        command += ["-t", f"{limit_s:.3f}"]
    command += ["-ac", "1", "-ar", str(sample_rate_hz), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    chunk_bytes = max(2, int(chunk_s * sample_rate_hz) * 2)
    deadline = time.monotonic() + timeout_s if timeout_s is not None else float("inf")
    # ffmpeg's messages go to a file: a pipe nobody reads while the samples flow could fill and stall it.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        try:
            decoded = 0
            while True:
                # read1: what has arrived (up to a chunk), so a live stream is passed on as it comes
                block = (
                    process.stdout.read1(chunk_bytes)
                    if timeout_s is None
                    else process.stdout.read(chunk_bytes)
                )
                if time.monotonic() > deadline:
                    raise AudioDecodeError(f"{name}: decoding took longer than {timeout_s:g} s")
                if not block:
                    break
                if len(block) % 2 and (extra := process.stdout.read(1)):
                    block += extra  # never split a sample between chunks
                decoded += len(block)
                yield pcm16_to_float(block)
            returncode = process.wait(timeout=max(1.0, min(deadline - time.monotonic(), 60.0)))
        except subprocess.TimeoutExpired as exc:
            raise AudioDecodeError(f"{name}: decoding took longer than {timeout_s:g} s") from exc
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
        errors.seek(0)
        reason = _first_error_line(errors.read(64 * 1024))
    if returncode != 0:
        raise AudioDecodeError(f"{name}: not decodable audio ({reason or 'ffmpeg failed'})")
    if decoded < 2:
        raise AudioDecodeError(f"{name}: no audio stream found ({reason or 'no samples decoded'})")


def _first_error_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


def pcm16_to_float(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Little-endian int16 PCM bytes -> float32 [shape=(n,)] in [-1, 1). A trailing odd byte is dropped."""
    usable = len(data) - (len(data) % 2)
    return np.frombuffer(bytes(data[:usable]), dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """float32 in [-1, 1] -> little-endian int16 PCM bytes (clipped)."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 32767 / 32768)
    return (clipped * 32768.0).astype("<i2").tobytes()


def decode_pcm16(data: bytes, *, in_rate_hz: int, sample_rate_hz: int) -> np.ndarray:
    """Raw mono int16 PCM at in_rate_hz -> float32 at the engine rate."""
    return resample(pcm16_to_float(data), in_rate_hz=in_rate_hz, out_rate_hz=sample_rate_hz)


def file_sha1(path: str | os.PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    """Content SHA-1 of a file, hex: the catalogue's identity of a track, read without decoding."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()
