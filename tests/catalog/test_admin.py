"""The catalogue admin: list, upload (fingerprinted on save), form errors, delete."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Fingerprint, Song

pytestmark = pytest.mark.django_db


def upload(admin_client, name, content, **fields):
    return admin_client.post(
        reverse("admin:catalog_song_add"),
        {"audio": SimpleUploadedFile(name, content), "title": "", "artist": "", "album": "", **fields},
    )


def test_upload_fingerprints_and_stores_the_track(admin_client, song_files):
    response = upload(admin_client, "My Track.wav", song_files[0].path.read_bytes(), artist="The Testers")
    assert response.status_code == 302, response.content.decode()[:2000]
    song = Song.objects.get()
    assert song.artist == "The Testers"
    assert song.title == "My Track"
    assert song.audio.name and song.audio.storage.exists(song.audio.name)
    assert Fingerprint.objects.filter(song=song).count() == song.fingerprint_count > 0


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.mp3", b"", "empty"),
        ("notes.mp3", b"just some text, not music\n" * 40, "not audio jamjar can read"),
        ("cut.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "not audio jamjar can read"),
    ],
)
def test_bad_upload_is_a_form_error_and_stores_nothing(admin_client, name, content, message):
    response = upload(admin_client, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Song.objects.count() == 0
    assert Fingerprint.objects.count() == 0


def test_duplicate_upload_is_a_form_error(admin_client, catalogue, song_files):
    response = upload(admin_client, "again.wav", song_files[0].path.read_bytes())
    assert response.status_code == 200
    assert "already in the catalogue" in response.content.decode()
    assert Song.objects.count() == 4


def test_changelist_searches_and_shows_counts(admin_client, catalogue):
    response = admin_client.get(reverse("admin:catalog_song_changelist"), {"q": "song 12"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "song 12" in page and "song 13" not in page
    assert f"{catalogue[12].fingerprint_count:,}" in page  # with a thousands separator


def test_delete_confirmation_counts_fingerprints_and_deletes_them(admin_client, catalogue):
    song = catalogue[13]
    url = reverse("admin:catalog_song_delete", args=[song.pk])
    confirm = admin_client.get(url).content.decode()
    assert "fingerprints" in confirm.lower()
    assert confirm.count("@") == 0  # fingerprints are counted, not listed one by one
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Song.objects.filter(pk=song.pk).exists()
    assert not Fingerprint.objects.filter(song_id=song.pk).exists()


def test_bulk_delete_action(admin_client, catalogue):
    ids = [catalogue[11].pk, catalogue[12].pk]
    response = admin_client.post(
        reverse("admin:catalog_song_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert Song.objects.count() == 2
    assert not Fingerprint.objects.filter(song_id__in=ids).exists()


def test_recognition_log_is_read_only(admin_client):
    assert admin_client.get(reverse("admin:recognition_recognition_add")).status_code == 403
