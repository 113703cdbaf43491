"""/api/songs/: list, search, order, read, edit, upload and delete, with who may do each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Fingerprint, Song
from tests.api.conftest import song_samples, wav_bytes

pytestmark = pytest.mark.django_db

URL = "/api/songs/"


def detail(song_id: int) -> str:
    return f"{URL}{song_id}/"


def upload(client, content: bytes, name: str = "My Upload.wav", **fields):
    return client.post(URL, {"audio": SimpleUploadedFile(name, content), **fields}, format="multipart")


def new_track(seed: int = 21) -> bytes:
    """A song that is not in the shared catalogue (8 kHz keeps it quick)."""
    return wav_bytes(song_samples(seed, sample_rate_hz=8000)[: 8000 * 8], sample_rate_hz=8000)


def test_list_is_open_and_paginated(anon, catalogue):
    response = anon.get(URL, {"page_size": 3})
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 4
    assert len(page["results"]) == 3
    assert page["next"] and "page=2" in page["next"]
    first = page["results"][0]
    assert {"id", "title", "artist", "album", "duration_s", "fingerprint_count", "params_version"} <= set(
        first
    )
    assert "source_path" not in first  # a server path is nobody's business
    assert "sha1" not in first and "original_filename" not in first  # nor, but to staff, which file it was
    assert anon.get(page["next"]).json()["results"][0]["id"] not in {song["id"] for song in page["results"]}


def test_search_on_title_and_artist(anon, catalogue):
    Song.objects.filter(pk=catalogue[13].pk).update(artist="The Testers")
    by_artist = anon.get(URL, {"search": "testers"}).json()
    assert [song["id"] for song in by_artist["results"]] == [catalogue[13].pk]
    by_title = anon.get(URL, {"search": "song 12"}).json()
    assert [song["id"] for song in by_title["results"]] == [catalogue[12].pk]
    assert anon.get(URL, {"search": "nothing like it"}).json()["count"] == 0


def test_ordering(anon, catalogue):
    titles = [song["title"] for song in anon.get(URL, {"ordering": "-title"}).json()["results"]]
    assert titles == ["song 14", "song 13", "song 12", "song 11"]
    ids = [song["id"] for song in anon.get(URL, {"ordering": "id"}).json()["results"]]
    assert ids == sorted(ids)


def test_staff_see_the_content_hash_and_file_name(staff_client, catalogue):
    body = staff_client.get(detail(catalogue[11].pk)).json()
    assert (body["sha1"], body["original_filename"]) == (catalogue[11].sha1, catalogue[11].original_filename)


def test_read_one_and_missing_one(anon, catalogue):
    song = catalogue[11]
    response = anon.get(detail(song.pk))
    assert response.status_code == 200
    assert response.json()["title"] == song.title and "sha1" not in response.json()
    missing = anon.get(detail(999_999))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No Song matches the given query."}


def test_closed_api_refuses_anonymous_reads(anon, user_client, catalogue, settings):
    settings.JAMJAR = {"api_open": False}
    refused = anon.get(URL)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert user_client.get(URL).json()["count"] == 4


def test_edit_needs_staff_or_a_token(anon, user_client, staff_client, token_client, catalogue):
    url = detail(catalogue[12].pk)
    assert anon.patch(url, {"title": "x"}, format="json").status_code == 401
    refused = user_client.patch(url, {"title": "x"}, format="json")
    assert refused.status_code == 403
    assert "permission" in refused.json()["detail"]
    response = staff_client.patch(url, {"title": "Renamed", "artist": "Someone"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert token_client.patch(url, {"album": "Tapes"}, format="json").status_code == 200
    song = Song.objects.get(pk=catalogue[12].pk)
    assert (song.title, song.artist, song.album) == ("Renamed", "Someone", "Tapes")


def test_edit_validates_and_leaves_derived_fields_alone(staff_client, catalogue):
    song = catalogue[14]
    too_long = staff_client.patch(detail(song.pk), {"title": "x" * 256}, format="json")
    assert too_long.status_code == 400
    assert "title" in too_long.json()
    staff_client.patch(detail(song.pk), {"sha1": "0" * 40, "fingerprint_count": 1}, format="json")
    unchanged = Song.objects.get(pk=song.pk)
    assert (unchanged.sha1, unchanged.fingerprint_count) == (song.sha1, song.fingerprint_count)
    assert staff_client.put(detail(song.pk), {"title": "x"}, format="json").status_code == 405


def test_session_writes_need_the_csrf_token(curator, catalogue):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(curator)
    response = client.patch(detail(catalogue[11].pk), {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_upload_fingerprints_and_keeps_the_track(staff_client, catalogue, tempdir_stays_empty):
    # Called .mp3 but it is a WAV: the content decides.
    response = upload(staff_client, new_track(), name="Night Drive.mp3", artist="The Testers")
    assert response.status_code == 201, response.content
    body = response.json()
    song = Song.objects.get(pk=body["id"])
    assert response["Location"].endswith(detail(song.pk))
    assert (body["title"], body["artist"]) == ("Night Drive", "The Testers")
    assert body["original_filename"] == "Night Drive.mp3"
    assert song.audio and song.audio.storage.exists(song.audio.name)
    assert Fingerprint.objects.filter(song=song).count() == song.fingerprint_count > 0
    assert song.duration_s == pytest.approx(8.0, abs=0.01)


def test_upload_with_a_token(token_client, catalogue):
    assert upload(token_client, new_track(22)).status_code == 201


def test_upload_of_catalogued_content_is_409_with_its_id(staff_client, catalogue):
    song = catalogue[13]
    response = upload(staff_client, Path(song.source_path).read_bytes(), name="renamed copy.wav")
    assert response.status_code == 409
    body = response.json()
    assert body["song_id"] == song.pk
    assert body["song"]["sha1"] == song.sha1
    assert "already in the catalogue" in body["detail"]
    assert Song.objects.count() == 4


def test_upload_needs_staff_or_a_token(anon, user_client, catalogue):
    assert upload(anon, new_track()).status_code == 401
    assert upload(user_client, new_track()).status_code == 403
    assert Song.objects.count() == 4


@pytest.mark.parametrize(
    "name, content",
    [
        ("noise.sln", np.random.default_rng(2).bytes(50_000)),
        ("song.flac", b"fLaC" + b"\x00" * 200),
        ("notes.txt", b"la la la\n" * 100),
    ],
)
def test_upload_of_not_audio_is_415_and_stores_nothing(
    staff_client, catalogue, name, content, tempdir_stays_empty
):
    response = upload(staff_client, content, name=name)
    assert response.status_code == 415, response.content
    assert name in response.json()["detail"]
    assert Song.objects.count() == 4


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "No file was submitted."),
        ({"audio": SimpleUploadedFile("empty.wav", b"")}, "The submitted file is empty."),
        (
            {"audio": "text, not a file"},
            "The submitted data was not a file. Check the encoding type on the form.",
        ),
    ],
)
def test_upload_without_a_usable_file_is_400(staff_client, catalogue, data, message):
    response = staff_client.post(URL, data, format="multipart")
    assert response.status_code == 400
    assert response.json()["audio"] == [message]


def test_upload_over_the_limit_is_413(staff_client, catalogue, settings, tempdir_stays_empty):
    settings.JAMJAR = {"api_max_track_bytes": 20_000}
    response = upload(staff_client, new_track())
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert Song.objects.count() == 4


def test_upload_just_over_the_limit_is_413_after_parsing(staff_client, catalogue, settings):
    track = new_track()
    # Within the allowance for the multipart envelope, so the file's own size decides.
    settings.JAMJAR = {"api_max_track_bytes": len(track) - 1}
    response = upload(staff_client, track)
    assert response.status_code == 413
    assert "My Upload.wav" in response.json()["detail"]


def test_delete_goes_through_the_service(staff_client, anon, user_client, catalogue):
    created = upload(staff_client, new_track(23)).json()
    song = Song.objects.get(pk=created["id"])
    stored = song.audio.name
    assert anon.delete(detail(song.pk)).status_code == 401
    assert user_client.delete(detail(song.pk)).status_code == 403
    response = staff_client.delete(detail(song.pk))
    assert response.status_code == 204
    assert not Song.objects.filter(pk=song.pk).exists()
    assert not Fingerprint.objects.filter(song_id=song.pk).exists()
    assert not song.audio.storage.exists(stored)
    assert staff_client.delete(detail(song.pk)).status_code == 404


def test_upload_named_with_nothing_storable_is_still_catalogued(staff_client, catalogue):
    response = upload(staff_client, new_track(24), name="%%%")
    assert response.status_code == 201, response.content
    assert response.json()["original_filename"] == "upload"
