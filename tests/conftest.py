"""Fixtures shared by the database tests: generated songs on disk and a small catalogue."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.audio_fixtures import synth_song, write_wav

SONG_RATE_HZ = 44100  # written at CD rate, so every ingest goes through the resampler
SONG_SECONDS = 24.0


@dataclass
class Track:
    seed: int
    path: Path


@pytest.fixture
def song_files(tmp_path) -> list[Track]:
    """Four distinct generated songs as 44.1 kHz WAV files."""
    folder = tmp_path / "songs"
    folder.mkdir()
    tracks = []
    for seed in (11, 12, 13, 14):
        path = folder / f"song_{seed}.wav"
        write_wav(
            path,
            synth_song(seed, duration_s=SONG_SECONDS, sample_rate_hz=SONG_RATE_HZ),
            sample_rate_hz=SONG_RATE_HZ,
        )
        tracks.append(Track(seed, path))
    return tracks


@pytest.fixture
def catalogue(db, song_files):
    """The four songs ingested; returns {seed: Song}."""
    from catalog import services

    return {track.seed: services.ingest_file(track.path).song for track in song_files}


def database_url_for_subprocess() -> str:
    """A DATABASE_URL that reaches the test database the suite is using right now."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "mysql":
        auth = settings["USER"] or "root"
        if settings["PASSWORD"]:
            auth += f":{settings['PASSWORD']}"
        return (
            f"mysql://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 3306}/{settings['NAME']}"
        )
    raise RuntimeError(f"no subprocess URL for {connection.vendor}")


def subprocess_env(base: dict | None = None, **extra: str) -> dict:
    """Environment for a jamjar process started by a test: the test database, project settings."""
    from django.conf import settings

    env = {**(os.environ if base is None else base), "DATABASE_URL": database_url_for_subprocess(), **extra}
    env["DJANGO_SETTINGS_MODULE"] = "jamjar_site.settings"
    env.setdefault("MEDIA_ROOT", str(settings.MEDIA_ROOT))  # the files the test's songs refer to
    env.setdefault("SECRET_KEY", "test-suite-only-key")
    return env


@pytest.fixture(autouse=True)
def fresh_counts():
    """Live-session and rate counts start at zero in every test (with Redis they would
    otherwise carry over from the test before, or from the run before)."""
    from django.core.cache import cache

    cache.clear()
    yield
