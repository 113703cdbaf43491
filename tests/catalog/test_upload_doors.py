"""Every upload door (the admin's add form, its batch upload, POST /api/songs/) is one service:
one size rule, one sentence for a duplicate, one copy of the file, nothing left by a refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from catalog import jobs, services
from catalog.models import Fingerprint, Song
from tests.api.conftest import wav_bytes
from tests.audio_fixtures import synth_song
from tests.conftest import SONG_RATE_HZ

# Threads of the admin's batches use their own database connection: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

DOORS = ["admin form", "admin batch", "api"]


def track(seed: int) -> bytes:
    """Six seconds of a generated song: tracks of different seeds have the same size."""
    return wav_bytes(
        synth_song(seed, duration_s=6.0, sample_rate_hz=SONG_RATE_HZ), sample_rate_hz=SONG_RATE_HZ
    )


def send(client, door: str, name: str, content: bytes) -> tuple[bool, str]:
    """Upload through a door: (catalogued, what the door said)."""
    upload = SimpleUploadedFile(name, content)
    if door == "api":
        response = client.post("/api/songs/", {"audio": upload})
        return response.status_code == 201, response.json().get("detail", "")
    if door == "admin form":
        fields = {"audio": upload, "title": "", "artist": "", "album": ""}
        response = client.post(reverse("admin:catalog_song_add"), fields)
        return response.status_code == 302, response.content.decode()
    response = client.post(reverse("admin:catalog_song_upload_many"), {"files": [upload]})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = jobs.get(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.wait(timeout_s=60)
    [outcome] = job.outcomes
    page = client.get(response["Location"])
    shown = " ".join(str(message) for message in get_messages(page.wsgi_request))
    created = outcome.ok and outcome.message.startswith("catalogued")
    return created, f"{outcome.message} {shown}"


def files_below(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.mark.parametrize("door", DOORS)
def test_a_track_of_exactly_the_limit_is_taken_and_one_byte_more_is_refused_alike(
    door, admin_client, media, settings
):
    content = track(41)
    settings.JAMJAR = {"api_max_track_bytes": len(content) - 1}
    created, said = send(admin_client, door, "big.wav", content)
    assert not created
    refusal = str(services.TrackTooLarge(len(content), len(content) - 1))
    assert refusal == "529,244 bytes, over the limit of 529,243 bytes (516.8 KB)"
    assert refusal in said
    assert (Song.objects.count(), Fingerprint.objects.count(), files_below(media)) == (0, 0, [])

    settings.JAMJAR = {"api_max_track_bytes": len(content)}
    created, said = send(admin_client, door, "big.wav", content)
    assert created, said[:2000]
    song = Song.objects.get()
    assert files_below(media) == [song.audio.name]


@pytest.mark.parametrize("door", DOORS)
def test_a_duplicate_is_reported_in_the_same_words(door, admin_client, media):
    first = services.ingest_file(_written(media.parent / "first.wav", track(42)), title="First").song
    created, said = send(admin_client, door, "again.wav", track(42))
    assert not created
    sentence = f"This track is already in the catalogue as “First” (song {first.pk})."
    assert services.ALREADY_CATALOGUED.format(song=first) == sentence
    assert (sentence if door == "api" else escape(sentence)) in said
    if door == "api":
        assert said == sentence
    assert Song.objects.count() == 1
    assert files_below(media) == []  # the upload's spooled copy is gone too


@pytest.mark.parametrize("door", DOORS)
def test_not_audio_leaves_no_file_and_no_row(door, admin_client, media):
    created, said = send(admin_client, door, "noise.wav", os.urandom(40_000))
    assert not created
    assert "noise.wav" in said
    assert (Song.objects.count(), Fingerprint.objects.count(), files_below(media)) == (0, 0, [])


@pytest.mark.parametrize("door", DOORS)
def test_the_upload_is_copied_once_and_that_copy_is_the_stored_file(door, admin_client, media, monkeypatch):
    written = []
    write_partial = services._write_partial

    def watched(folder, chunks):
        path = write_partial(folder, chunks)
        written.append(os.stat(path).st_ino)
        return path

    monkeypatch.setattr(services, "_write_partial", watched)
    created, said = send(admin_client, door, "once.wav", track(43))
    assert created, said[:2000]
    song = Song.objects.get()
    assert written == [os.stat(song.audio.path).st_ino]  # moved into place, not copied again
    assert files_below(media) == [song.audio.name]


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
