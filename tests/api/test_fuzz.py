"""Random and truncated bytes at the upload doors: a clear 4xx or an answer, never a 500, no temporary file left."""

from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.api.conftest import clip_wav, song_samples, watched_tempdir, wav_bytes
from tests.audio_fixtures import encode

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = st.sampled_from(
    ["clip.mp3", "clip.sln", "clip.wav", "clip", "clip.u8", "..ogg", "ü – clip.flac", "%%%"]
)
RAW_TYPES = st.sampled_from(
    [
        "application/octet-stream",
        "audio/L16",
        "audio/l16; rate=16000",
        "audio/L16; rate=abc; channels=2",
        "audio/L16; rate=",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
    ]
)


@pytest.fixture
def no_throttle(settings):
    settings.JAMJAR = {"api_anon_recognize_rate": None}


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, bytes]:
    """A WAV and an MP3 of a short clip, to be cut anywhere."""
    folder = tmp_path_factory.mktemp("fuzz")
    wav = folder / "clip.wav"
    wav.write_bytes(clip_wav(12, seconds=2.0))
    mp3 = encode(wav, folder / "clip.mp3", "-b:a", "64k")
    track = wav_bytes(song_samples(31, sample_rate_hz=8000)[: 8000 * 4], sample_rate_hz=8000)
    return {"wav": wav.read_bytes(), "mp3": mp3.read_bytes(), "track": track}


def send_file(client, url: str, content: bytes, name: str):
    with watched_tempdir() as folder:
        response = client.post(url, {"audio": SimpleUploadedFile(name, content)}, format="multipart")
        assert os.listdir(folder) == []
    assert response["Content-Type"] == "application/json", response.content[:300]
    return response


@FUZZ
@given(content=st.binary(max_size=6000), name=NAMES)
def test_recognize_random_upload(anon, catalogue, no_throttle, content, name):
    response = send_file(anon, "/api/recognize/", content, name)
    assert response.status_code in {200, 400, 415}, response.content


@FUZZ
@given(kind=st.sampled_from(["wav", "mp3"]), cut=st.floats(0.0, 1.0))
def test_recognize_truncated_files(anon, catalogue, no_throttle, real_files, kind, cut):
    content = real_files[kind][: int(cut * len(real_files[kind]))]
    response = send_file(anon, "/api/recognize/", content, f"clip.{kind}")
    assert response.status_code in {200, 400, 415}, response.content
    if response.status_code == 200:
        assert response.json()["file"] == f"clip.{kind}"


@FUZZ
@given(
    body=st.binary(max_size=6000),
    content_type=RAW_TYPES,
    rate=st.one_of(st.none(), st.integers(-10, 200_000).map(str), st.text(max_size=6)),
)
def test_recognize_random_raw_bodies(anon, catalogue, no_throttle, body, content_type, rate):
    query = "?" + urlencode({"sample_rate": rate}) if rate is not None else ""
    with watched_tempdir() as folder:
        response = anon.generic("POST", "/api/recognize/" + query, body, content_type=content_type)
        assert os.listdir(folder) == []
    assert response.status_code in {200, 400, 413, 415}, response.content
    assert response["Content-Type"] == "application/json"


@FUZZ
@given(content=st.binary(max_size=6000), name=NAMES)
def test_song_upload_random_bytes(staff_client, catalogue, content, name):
    response = send_file(staff_client, "/api/songs/", content, name)
    assert response.status_code in {201, 400, 409, 415}, response.content


@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_song_upload_truncated_track(staff_client, catalogue, real_files, cut):
    content = real_files["track"][: int(cut * len(real_files["track"]))]
    response = send_file(staff_client, "/api/songs/", content, "track.wav")
    assert response.status_code in {201, 400, 409, 415}, response.content
