"""POST /api/recognize/: uploads and raw PCM, the answer's shape, the log, access, limits and errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jamjar_site.api import PayloadTooLarge
from recognition import conf, output
from recognition.api import L16Parser, PCM16Parser
from recognition.models import Recognition
from recognition.services import RecognitionResult
from tests.api.conftest import CLIP_START_S, clip_pcm, clip_wav, wav_bytes
from tests.audio_fixtures import synth_song

pytestmark = pytest.mark.django_db

URL = "/api/recognize/"


def hop_s() -> float:
    params = conf.fingerprint_params()
    return params.hop / params.sample_rate_hz


def post_file(client, content: bytes, name: str = "clip.wav"):
    return client.post(URL, {"audio": SimpleUploadedFile(name, content)}, format="multipart")


def post_pcm(client, body: bytes, *, content_type: str = "application/octet-stream", query: str = ""):
    return client.generic("POST", URL + query, body, content_type=content_type)


def assert_names(answer: dict, song, *, start_s: float = CLIP_START_S) -> None:
    assert answer["match"] is not None, answer
    assert answer["match"]["song_id"] == song.pk
    assert answer["match"]["offset_seconds"] == pytest.approx(start_s, abs=hop_s())
    assert answer["matches"][0]["song_id"] == song.pk


def test_upload_names_song_and_offset_in_the_shape_of_recognize_json(anon, catalogue, tempdir_stays_empty):
    # Named .mp3, but it is a WAV: the content decides.
    response = post_file(anon, clip_wav(12), name="from the radio.mp3")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert_names(answer, catalogue[12])
    assert answer["file"] == "from the radio.mp3"
    shape = json.loads(
        output.result_line(file="x", result=RecognitionResult(None, [], 0, 0.0), total_time_s=0.0)
    )
    assert set(answer) == set(shape)
    assert set(answer["timings"]) == {"fingerprint_s", "lookup_s", "align_s", "total_s"}
    assert answer["no_match_reason"] == ""
    assert answer["total_time_s"] >= answer["match_time_s"] > 0
    assert answer["seconds"] == pytest.approx(3.0, abs=0.01)


def test_every_answer_is_logged_with_source_api(anon, catalogue):
    post_file(anon, clip_wav(13))
    post_file(anon, wav_bytes(synth_song(99, duration_s=3.0, sample_rate_hz=8000), sample_rate_hz=8000))
    logged = list(Recognition.objects.order_by("id"))
    assert [row.source for row in logged] == ["api", "api"]
    assert logged[0].song_id == catalogue[13].pk
    assert logged[0].offset_s == pytest.approx(CLIP_START_S, abs=hop_s())
    assert logged[1].song_id is None


def test_unknown_music_is_no_match_not_an_error(anon, catalogue):
    response = post_file(
        anon, wav_bytes(synth_song(99, duration_s=4.0, sample_rate_hz=8000), sample_rate_hz=8000)
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["match"] is None
    assert "aligned votes" in answer["no_match_reason"] or "no hash" in answer["no_match_reason"]


@pytest.mark.parametrize("rate_hz", [16000, 44100])
def test_raw_pcm_with_sample_rate_parameter(anon, catalogue, rate_hz):
    response = post_pcm(anon, clip_pcm(11, sample_rate_hz=rate_hz), query=f"?sample_rate={rate_hz}")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert_names(answer, catalogue[11])
    assert answer["file"] is None


def test_audio_l16_with_rate_in_content_type(anon, catalogue):
    response = post_pcm(
        anon, clip_pcm(14, sample_rate_hz=22050), content_type="audio/L16; rate=22050; channels=1"
    )
    assert response.status_code == 200, response.content
    assert_names(response.json(), catalogue[14])


@pytest.mark.parametrize(
    "body, content_type, query, key, words",
    [
        (b"\x00\x01" * 800, "application/octet-stream", "", "sample_rate", "sample rate"),
        (
            b"\x00\x01" * 800,
            "application/octet-stream",
            "?sample_rate=abc",
            "sample_rate",
            "from 8000 to 48000",
        ),
        (
            b"\x00\x01" * 800,
            "application/octet-stream",
            "?sample_rate=4000",
            "sample_rate",
            "from 8000 to 48000",
        ),
        (
            b"\x00\x01" * 800 + b"\x00",
            "application/octet-stream",
            "?sample_rate=16000",
            "detail",
            "odd number",
        ),
        (b"\x00\x01" * 800, "audio/L16; rate=16000; channels=2", "", "detail", "mono"),
        (b"", "application/octet-stream", "?sample_rate=16000", "detail", "empty"),
    ],
)
def test_raw_pcm_mistakes_are_400_with_a_reason(anon, catalogue, body, content_type, query, key, words):
    response = post_pcm(anon, body, content_type=content_type, query=query)
    assert response.status_code == 400, response.content
    reason = response.json()[key]
    assert words in (reason if isinstance(reason, str) else reason[0])
    assert Recognition.objects.count() == 0


def test_missing_audio_field_is_400(anon, catalogue):
    response = anon.post(URL, {"clip": SimpleUploadedFile("clip.wav", clip_wav(11))}, format="multipart")
    assert response.status_code == 400
    assert "audio" in response.json()


@pytest.mark.parametrize(
    "name, content",
    [
        ("noise.sln", np.random.default_rng(1).bytes(40_000)),  # ffmpeg would take .sln as raw audio
        ("notes.mp3", b"just some text, not music\n" * 40),
        ("cut.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64),
    ],
)
def test_not_audio_is_415_naming_the_upload(anon, catalogue, name, content, tempdir_stays_empty):
    response = post_file(anon, content, name=name)
    assert response.status_code == 415, response.content
    detail = response.json()["detail"]
    assert "not audio" in detail and name in detail
    assert "jamjar-api-" not in detail and tempdir_stays_empty not in detail
    assert Recognition.objects.count() == 0


def test_empty_upload_is_400(anon, catalogue):
    response = post_file(anon, b"")
    assert response.status_code == 400
    assert "empty" in response.json()["audio"][0]


def test_other_content_types_are_415(anon, catalogue):
    response = anon.post(URL, {"audio": "x"}, format="json")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_get_is_405(anon):
    assert anon.get(URL).status_code == 405


def test_clip_over_the_size_limit_is_413_before_reading(anon, catalogue, settings, tempdir_stays_empty):
    settings.JAMJAR = {"api_max_clip_bytes": 100_000}
    response = post_pcm(anon, clip_pcm(11, sample_rate_hz=44100), query="?sample_rate=44100")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    response = post_file(anon, clip_wav(11))
    assert response.status_code == 413
    assert Recognition.objects.count() == 0


def test_raw_body_without_content_length_is_not_read(anon, catalogue, settings):
    settings.JAMJAR = {"api_max_clip_bytes": 100_000}
    body = clip_pcm(11, sample_rate_hz=44100)
    response = anon.generic(
        "POST", URL + "?sample_rate=44100", body, content_type="application/octet-stream", CONTENT_LENGTH=""
    )
    assert response.status_code == 400
    assert "empty" in response.json()["detail"]


def test_raw_parser_reads_no_further_than_the_limit(settings):
    settings.JAMJAR = {"api_max_clip_bytes": 1000}
    stream = io.BytesIO(b"\x00" * 5000)
    with pytest.raises(PayloadTooLarge):
        PCM16Parser().parse(stream, "application/octet-stream")
    assert stream.tell() == 1001
    clip = L16Parser().parse(io.BytesIO(b"\x00" * 1000), "audio/L16; rate=16000; channels=1")
    assert (len(clip.body), clip.rate, clip.channels) == (1000, "16000", "1")


def test_clip_over_the_duration_limit_is_413(anon, catalogue, settings):
    settings.JAMJAR = {"api_max_clip_s": 2.0}
    response = post_pcm(anon, clip_pcm(11, sample_rate_hz=16000, seconds=3.0), query="?sample_rate=16000")
    assert response.status_code == 413
    assert "2 s" in response.json()["detail"]
    response = post_file(anon, clip_wav(11, seconds=3.0))
    assert response.status_code == 413
    response = post_file(anon, clip_wav(11, seconds=1.9))
    assert response.status_code == 200
    assert Recognition.objects.count() == 1


def test_anonymous_callers_are_throttled_signed_in_ones_are_not(anon, staff_client, catalogue, settings):
    settings.JAMJAR = {"api_anon_recognize_rate": "2/minute"}
    body = clip_pcm(11, sample_rate_hz=8000, seconds=1.0)
    statuses = [post_pcm(anon, body, query="?sample_rate=8000").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    throttled = post_pcm(anon, body, query="?sample_rate=8000")
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"]
    assert int(throttled["Retry-After"]) > 0
    assert all(post_pcm(staff_client, body, query="?sample_rate=8000").status_code == 200 for _ in range(3))


def test_closed_api_needs_a_signed_in_caller(anon, user_client, token_client, catalogue, settings):
    settings.JAMJAR = {"api_open": False}
    body = clip_pcm(11, sample_rate_hz=8000, seconds=1.0)
    refused = post_pcm(anon, body, query="?sample_rate=8000")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert post_pcm(user_client, body, query="?sample_rate=8000").status_code == 200
    assert post_pcm(token_client, body, query="?sample_rate=8000").status_code == 200


def test_bad_token_is_401(anon, catalogue):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = post_file(anon, clip_wav(11))
    assert response.status_code == 401
    assert "token" in response.json()["detail"].lower()


def test_catalogue_of_other_parameters_is_503_with_the_fix(anon, catalogue, settings):
    settings.JAMJAR_FINGERPRINT = {"fan_out": 5}
    response = post_file(anon, clip_wav(11))
    assert response.status_code == 503
    assert "refingerprint" in response.json()["detail"]


def test_djangos_own_body_refusals_are_json_too(anon, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{i}": "x" for i in range(10)}
    response = anon.post(
        URL, {"audio": SimpleUploadedFile("clip.wav", b"RIFF"), **fields}, format="multipart"
    )
    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = anon.post(
        URL, {"audio": SimpleUploadedFile("clip.wav", b"RIFF"), "note": "x" * 5000}, format="multipart"
    )
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]
