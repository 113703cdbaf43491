"""Fixtures shared by the database tests: generated songs on disk and a small catalogue; and a
check that no process started by the run outlives it."""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import processes
from tests.audio_fixtures import synth_song, write_wav

SONG_RATE_HZ = 44100  # written at CD rate, so every ingest goes through the resampler
SONG_SECONDS = 24.0
SONG_SEEDS = (11, 12, 13, 14)

# A process started by the run gets this long to exit after the last test, seconds.
PROCESS_EXIT_GRACE_S = 10.0

RUN_MARKER_VALUE = processes.mark_this_run()


@dataclass
class Track:
    seed: int
    path: Path


@pytest.fixture(scope="session")
def song_masters(tmp_path_factory) -> dict[int, Path]:
    """The four generated songs as 44.1 kHz WAV files, written once per test process; copy them, never change them."""
    folder = tmp_path_factory.mktemp("song-masters")
    return {
        seed: write_wav(
            folder / f"song_{seed}.wav",
            synth_song(seed, duration_s=SONG_SECONDS, sample_rate_hz=SONG_RATE_HZ),
            sample_rate_hz=SONG_RATE_HZ,
        )
        for seed in SONG_SEEDS
    }


@pytest.fixture
def song_files(tmp_path, song_masters) -> list[Track]:
    """Four distinct generated songs as 44.1 kHz WAV files in a folder of the test's own."""
    folder = tmp_path / "songs"
    folder.mkdir()
    return [
        Track(seed, Path(shutil.copyfile(master, folder / master.name)))
        for seed, master in song_masters.items()
    ]


_analyses: dict = {}


def analysis_of(path: Path):
    """What ingest_file would compute for the file under the current parameters, computed once
    per content and parameters in this process (the same bytes and parameters make the same
    analysis), with its path set to this file."""
    from recognition import conf
    from recognition.analysis import analyse_file
    from recognition.engine.audio import file_sha1

    params = conf.fingerprint_params()
    sha1 = file_sha1(path)
    if (sha1, params) not in _analyses:
        analysis = analyse_file(path, params, sha1=sha1)
        for array in (analysis.hashes, analysis.offsets_frames):
            array.flags.writeable = False
        _analyses[sha1, params] = analysis
    return dataclasses.replace(_analyses[sha1, params], path=str(path))


def catalogue_of(tracks: list[Track]) -> dict:
    """The tracks catalogued by the service ingest_file writes through; returns {seed: Song}.

    Only the analysis is shared between tests: each test writes its own rows, so what it
    changes is rolled back (or flushed) with its database as usual.
    """
    from catalog import services

    return {track.seed: services.store_analysis(analysis_of(track.path)).song for track in tracks}


@pytest.fixture
def catalogue(db, song_files):
    """The four songs ingested; returns {seed: Song}."""
    return catalogue_of(song_files)


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_run():
    """Fails the run (at the teardown of its last test) if a process a test started is still
    alive, and kills it: a server, a browser or a bulk-ingest worker left behind holds memory
    and ports until someone notices."""
    yield
    left = processes.left_behind(RUN_MARKER_VALUE, os.getpid(), grace_s=PROCESS_EXIT_GRACE_S)
    if left:
        processes.kill(left)
        pytest.fail(
            "processes started by the tests were still alive after the last test (now killed):\n"
            + "\n".join(map(str, left)),
            pytrace=False,
        )


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
    env[processes.RUN_MARKER] = RUN_MARKER_VALUE  # so the end-of-run check finds what it leaves behind
    env["DJANGO_SETTINGS_MODULE"] = "jamjar_site.settings"
    env.setdefault("MEDIA_ROOT", str(settings.MEDIA_ROOT))  # the files the test's songs refer to
    env.setdefault("SECRET_KEY", "test-suite-only-key")
    return env


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        pytest.skip("checks Redis; REDIS_URL is not set (scripts/test runs the suite with Redis too)")


@pytest.fixture(autouse=True)
def fresh_counts():
    """Live-session and rate counts start at zero in every test (with Redis they would
    otherwise carry over from the test before, or from the run before)."""
    from django.core.cache import cache

    cache.clear()
    yield
