"""Music-like audio that the tests generate: seeded melodies, noise, and files in several formats."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from recognition.engine.audio import ffmpeg_executable


def synth_song(seed: int, *, duration_s: float, sample_rate_hz: int = 8000) -> np.ndarray:
    """A seeded random melody with chords: float32 [shape=(n,)], peak about 0.5.

    Notes of 0.08-0.4 s, each 2-4 harmonics of a fundamental between 150 and 1500 Hz with an
    attack/decay envelope, often two at once, over a little seeded noise.  Different seeds
    give unrelated songs; the same seed and rate always give the same samples.
    """
    rng = np.random.default_rng(seed)
    n = int(duration_s * sample_rate_hz)
    out = np.zeros(n, dtype=np.float64)
    t_s = 0.0
    while t_s < duration_s:
        length_s = rng.uniform(0.08, 0.4)
        for _ in range(rng.integers(1, 3)):
            fundamental_hz = 150.0 * 10 ** rng.uniform(0, 1)
            start = int(t_s * sample_rate_hz)
            count = min(int(length_s * sample_rate_hz), n - start)
            if count <= 0:
                continue
            time_s = np.arange(count) / sample_rate_hz
            envelope = np.minimum(1.0, time_s / 0.01) * np.exp(-time_s * rng.uniform(2, 8))
            note = np.zeros(count)
            for harmonic in range(1, rng.integers(2, 5) + 1):
                freq_hz = fundamental_hz * harmonic
                if freq_hz < sample_rate_hz / 2 * 0.95:
                    note += rng.uniform(0.3, 1.0) / harmonic * np.sin(2 * np.pi * freq_hz * time_s + rng.uniform(0, 2 * np.pi))
            out[start : start + count] += envelope * note
        t_s += length_s * rng.uniform(0.6, 1.0)
    out += 0.01 * rng.standard_normal(n)
    peak = np.max(np.abs(out)) or 1.0
    return (0.5 * out / peak).astype(np.float32)


def white_noise(seed: int, duration_s: float, sample_rate_hz: int) -> np.ndarray:
    return (0.2 * np.random.default_rng(seed).standard_normal(int(duration_s * sample_rate_hz))).astype(np.float32)


def write_wav(path: str | Path, samples: np.ndarray, *, sample_rate_hz: int) -> Path:
    """16-bit PCM mono WAV."""
    pcm = (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(pcm.tobytes())
    return Path(path)


def encode(path_in: str | Path, path_out: str | Path, *extra_ffmpeg_args: str) -> Path:
    """Re-encode with ffmpeg (format from path_out's extension), e.g. encode(a, b, "-ar", "48000")."""
    subprocess.run(
        [ffmpeg_executable(), "-nostdin", "-loglevel", "error", "-y", "-i", str(path_in), *extra_ffmpeg_args, str(path_out)],
        check=True,
    )
    return Path(path_out)
