"""Fixtures of the catalogue tests."""

from __future__ import annotations

import pytest

from tests.audio_fixtures import synth_song, write_wav


@pytest.fixture
def many_songs(tmp_path):
    """Sixteen generated 40 s songs at 22.05 kHz: enough work to stop a run in the middle."""
    folder = tmp_path / "many"
    folder.mkdir()
    for seed in range(100, 116):
        write_wav(
            folder / f"track {seed}.wav",
            synth_song(seed, duration_s=40.0, sample_rate_hz=22050),
            sample_rate_hz=22050,
        )
    return folder
