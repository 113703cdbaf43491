"""Music-like audio that the tests generate offline: seeded melodies, noise, and files in several formats."""

from __future__ import annotations

import functools
import subprocess
import wave
from pathlib import Path

import numpy as np

from recognition.engine.audio import ffmpeg_executable

NOTE_MIN_S, NOTE_MAX_S = 0.08, 0.4
FUNDAMENTAL_MIN_HZ, FUNDAMENTAL_MAX_HZ = 150.0, 1500.0
ATTACK_S = 0.01
NOISE_RMS = 0.01  # relative to the melody before normalising
PEAK = 0.5


def synth_song(seed: int, *, duration_s: float, sample_rate_hz: int = 8000) -> np.ndarray:
    """A seeded random melody with chords, float32 [shape=(int(duration_s * sample_rate_hz),)], peak 0.5.

    Notes last 0.08-0.4 s; each is 2-4 harmonics of a fundamental between 150 and 1500 Hz
    (log-uniform) under a 10 ms attack and an exponential decay.  Notes start before the
    previous one ends, and about a third of them are two- or three-note chords.  A little
    seeded white noise lies underneath.

    Every random draw is made whatever the sample rate, so one seed is the same melody at
    8 kHz and at 44.1 kHz (harmonics above the rate's Nyquist are drawn, then left out).
    Different seeds give unrelated melodies.

    The tests ask for the same few songs hundreds of times (0.7 s each at 44.1 kHz), so each
    is made once per test process; every caller gets its own copy to change at will.
    """
    return _synth_song(seed, duration_s=duration_s, sample_rate_hz=sample_rate_hz).copy()


@functools.lru_cache(maxsize=32)
def _synth_song(seed: int, *, duration_s: float, sample_rate_hz: int) -> np.ndarray:
    """synth_song's melody, made once per arguments."""
    rng = np.random.default_rng(seed)
    n_samples = int(duration_s * sample_rate_hz)
    out = np.zeros(n_samples, dtype=np.float64)
    onset_s = 0.0
    while onset_s < duration_s:
        length_s = rng.uniform(NOTE_MIN_S, NOTE_MAX_S)
        n_voices = rng.choice([1, 2, 3], p=[0.65, 0.25, 0.10])
        start = int(onset_s * sample_rate_hz)
        count = min(int(length_s * sample_rate_hz), n_samples - start)
        time_s = np.arange(max(count, 0)) / sample_rate_hz
        for _ in range(n_voices):
            fundamental_hz = FUNDAMENTAL_MIN_HZ * (FUNDAMENTAL_MAX_HZ / FUNDAMENTAL_MIN_HZ) ** rng.uniform()
            decay_per_s = rng.uniform(2.0, 8.0)
            n_harmonics = int(rng.integers(2, 5))
            amplitudes = rng.uniform(0.3, 1.0, size=n_harmonics) / np.arange(1, n_harmonics + 1)
            phases = rng.uniform(0.0, 2 * np.pi, size=n_harmonics)
            freqs_hz = fundamental_hz * np.arange(1, n_harmonics + 1)
            audible = freqs_hz < 0.95 * sample_rate_hz / 2
            if count <= 0 or not audible.any():
                continue
            envelope = np.minimum(1.0, time_s / ATTACK_S) * np.exp(-decay_per_s * time_s)
            tones = np.sin(2 * np.pi * freqs_hz[audible, None] * time_s[None, :] + phases[audible, None])
            out[start : start + count] += envelope * (amplitudes[audible] @ tones)
        onset_s += length_s * rng.uniform(0.6, 1.0)
    out += NOISE_RMS * rng.standard_normal(n_samples)
    peak = np.max(np.abs(out)) if n_samples else 0.0
    return (PEAK * out / (peak or 1.0)).astype(np.float32)


def white_noise(seed: int, duration_s: float, sample_rate_hz: int) -> np.ndarray:
    """Seeded Gaussian white noise, float32 [shape=(int(duration_s * sample_rate_hz),)], RMS 0.2."""
    rng = np.random.default_rng(seed)
    return (0.2 * rng.standard_normal(int(duration_s * sample_rate_hz))).astype(np.float32)


def write_wav(path: str | Path, samples: np.ndarray, *, sample_rate_hz: int) -> Path:
    """Write float samples in [-1, 1] as a 16-bit PCM mono WAV file (clipped); returns the path."""
    scaled = np.round(np.asarray(samples, dtype=np.float64) * 32768.0)
    pcm = np.clip(scaled, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(pcm.tobytes())
    return Path(path)


def encode(path_in: str | Path, path_out: str | Path, *extra_ffmpeg_args: str) -> Path:
    """Convert with ffmpeg, the format taken from path_out's extension; returns path_out.

    extra_ffmpeg_args go between input and output, e.g. encode(a, b, "-ar", "48000", "-ac", "2").
    """
    command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-i", str(path_in), *extra_ffmpeg_args, str(path_out)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"ffmpeg could not make {path_out}: {done.stderr.decode(errors='replace').strip()}"
        )
    return Path(path_out)
