"""A recording made of the catalogue fixture's songs, on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from recognition.evaluation.degrade import speed
from tests.audio_fixtures import synth_song, write_wav
from tests.conftest import SONG_SECONDS
from tests.tracklists.mixes import mix

RATE_HZ = 8000


@dataclass
class Recording:
    path: Path
    #: the song seed of each part (None: unknown music), and where each boundary lies, seconds
    seeds: list[int | None]
    boundaries_s: list[float]
    duration_s: float


@pytest.fixture
def recording(tmp_path) -> Recording:
    """Song 11, song 12 played 3 % fast, unknown music, song 13, joined by 4 s crossfades."""
    parts = [
        synth_song(11, duration_s=SONG_SECONDS, sample_rate_hz=RATE_HZ),
        speed(synth_song(12, duration_s=SONG_SECONDS, sample_rate_hz=RATE_HZ), percent=3.0),
        synth_song(777, duration_s=20, sample_rate_hz=RATE_HZ),
        synth_song(13, duration_s=SONG_SECONDS, sample_rate_hz=RATE_HZ),
    ]
    samples, boundaries = mix(parts, overlap=4 * RATE_HZ)
    path = write_wav(tmp_path / "mix.wav", samples, sample_rate_hz=RATE_HZ)
    return Recording(path, [11, 12, None, 13], [b / RATE_HZ for b in boundaries], len(samples) / RATE_HZ)
