"""Fixtures of the API tests: clients for each kind of caller, clips of the generated songs, a watched temp dir."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import wave
from collections.abc import Iterator

import numpy as np
import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognition.engine.audio import float_to_pcm16
from tests.audio_fixtures import synth_song
from tests.conftest import SONG_RATE_HZ, SONG_SECONDS, SONG_SEEDS, Track, catalogue_of

CLIP_START_S = 7.3
CLIP_SECONDS = 3.0


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker, tmp_path_factory):
    """The four generated songs, ingested once per module and committed; {seed: Song}.

    Most API tests only read the catalogue, so they share it; what a test writes is rolled
    back with its transaction as usual.  The songs are deleted when the module ends.
    """
    from catalog import services

    folder = tmp_path_factory.mktemp("api-songs")
    tracks = []
    for seed in SONG_SEEDS:
        path = folder / f"song_{seed}.wav"
        path.write_bytes(wav_bytes(song_samples(seed), sample_rate_hz=SONG_RATE_HZ))
        tracks.append(Track(seed, path))
    with django_db_blocker.unblock():
        songs = catalogue_of(tracks)
        yield songs
        services.delete_songs([song.pk for song in songs.values()])


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The throttle counts in the cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def listener(db, django_user_model):
    return django_user_model.objects.create_user("listener", password="listener-pw")


@pytest.fixture
def curator(db, django_user_model):
    return django_user_model.objects.create_user("curator", password="curator-pw", is_staff=True)


@pytest.fixture
def user_client(listener):
    client = APIClient()
    client.force_login(listener)
    return client


@pytest.fixture
def staff_client(curator):
    client = APIClient()
    client.force_login(curator)
    return client


@pytest.fixture
def token_client(listener):
    """A token of a user who is not staff: the token itself is the permission to write."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=listener).key}")
    return client


def song_samples(seed: int, *, sample_rate_hz: int = SONG_RATE_HZ) -> np.ndarray:
    return synth_song(seed, duration_s=SONG_SECONDS, sample_rate_hz=sample_rate_hz)


def clip_samples(
    seed: int, *, sample_rate_hz: int, start_s: float = CLIP_START_S, seconds: float = CLIP_SECONDS
):
    samples = song_samples(seed, sample_rate_hz=sample_rate_hz)
    return samples[int(start_s * sample_rate_hz) : int((start_s + seconds) * sample_rate_hz)]


def wav_bytes(samples: np.ndarray, *, sample_rate_hz: int) -> bytes:
    """A 16-bit mono WAV file, in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(float_to_pcm16(samples))
    return buffer.getvalue()


def clip_wav(
    seed: int,
    *,
    start_s: float = CLIP_START_S,
    seconds: float = CLIP_SECONDS,
    sample_rate_hz: int = SONG_RATE_HZ,
) -> bytes:
    """A clip of a generated song as the bytes of a WAV file."""
    samples = clip_samples(seed, sample_rate_hz=sample_rate_hz, start_s=start_s, seconds=seconds)
    return wav_bytes(samples, sample_rate_hz=sample_rate_hz)


def clip_pcm(
    seed: int, *, sample_rate_hz: int, start_s: float = CLIP_START_S, seconds: float = CLIP_SECONDS
) -> bytes:
    """A clip as raw 16-bit little-endian mono PCM."""
    return float_to_pcm16(clip_samples(seed, sample_rate_hz=sample_rate_hz, start_s=start_s, seconds=seconds))


@contextlib.contextmanager
def watched_tempdir() -> Iterator[str]:
    """Point every temporary file (Python's and Django's upload spool) at a fresh folder, to check it stays empty."""
    folder = tempfile.mkdtemp(prefix="jamjar-api-test-")
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tempdir_stays_empty():
    """Fails the test if any temporary file is left behind."""
    with watched_tempdir() as folder:
        yield folder
        assert os.listdir(folder) == []
