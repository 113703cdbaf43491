"""Staff listen to catalogued tracks through a view that answers range requests; MEDIA_ROOT stays private."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import services
from catalog.models import Song
from catalog.views import parse_range

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_song(song_files) -> Song:
    """A song uploaded through the API path, so its copy lives in MEDIA_ROOT."""
    return services.ingest_file(song_files[0].path, keep_file=True, original_filename="Stored Track.wav").song


def audio_url(song: Song) -> str:
    return reverse("admin:catalog_song_audio", args=[song.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file_with_accept_ranges(admin_client, stored_song, song_files):
    response = admin_client.get(audio_url(stored_song))
    content = song_files[0].path.read_bytes()
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] in {"audio/x-wav", "audio/wav"}
    assert int(response["Content-Length"]) == len(content)
    assert body(response) == content


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, None),
        ("bytes=-500", None, None),
        ("bytes=100-999999999", 100, None),
    ],
)
def test_range_requests_get_206_with_the_asked_bytes(
    admin_client, stored_song, song_files, header, start, end
):
    content = song_files[0].path.read_bytes()
    size = len(content)
    if start is None:
        start = size - 500
    end = size - 1 if end is None else end
    response = admin_client.get(audio_url(stored_song), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert int(response["Content-Length"]) == end - start + 1
    assert body(response) == content[start : end + 1]


def test_range_past_the_end_is_416(admin_client, stored_song, song_files):
    size = song_files[0].path.stat().st_size
    response = admin_client.get(audio_url(stored_song), HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_malformed_range_gets_the_whole_file(admin_client, stored_song, song_files):
    response = admin_client.get(audio_url(stored_song), HTTP_RANGE="bytes=5-2")
    assert response.status_code == 200
    assert body(response) == song_files[0].path.read_bytes()


def test_bulk_ingested_song_is_played_from_its_source(admin_client, catalogue, song_files):
    song = catalogue[song_files[1].seed]
    response = admin_client.get(audio_url(song), HTTP_RANGE="bytes=0-3")
    assert response.status_code == 206
    assert body(response) == b"RIFF"


def test_only_staff_may_listen(client, django_user_model, stored_song):
    anonymous = client.get(audio_url(stored_song))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    django_user_model.objects.create_user("visitor", password="pw-visitor-123")
    client.login(username="visitor", password="pw-visitor-123")
    assert client.get(audio_url(stored_song)).status_code == 302  # signed in, not staff: the login page
    staff = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    client.login(username="clerk", password="pw-clerk-123")
    assert client.get(audio_url(stored_song)).status_code == 403  # staff without the song permission
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_song"))
    assert client.get(audio_url(stored_song), HTTP_RANGE="bytes=0-3").status_code == 206


def test_media_root_is_not_served(client, admin_client, stored_song):
    assert stored_song.audio.name.startswith("tracks/")
    for who in (client, admin_client):
        assert who.get(f"/media/{stored_song.audio.name}").status_code == 404


def test_song_page_has_a_player_and_no_link_into_media(admin_client, stored_song):
    page = admin_client.get(reverse("admin:catalog_song_change", args=[stored_song.pk])).content.decode()
    assert f'<audio controls preload="metadata" src="{audio_url(stored_song)}"' in page
    assert stored_song.audio.name in page and "/media/" not in page


def test_missing_file_is_404(admin_client, stored_song):
    stored_song.audio.storage.delete(stored_song.audio.name)
    assert admin_client.get(audio_url(stored_song)).status_code == 404


def test_parse_range_edges():
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=-20", 10) == (0, 9)
    assert parse_range("bytes=-0", 10) is None
    assert parse_range("bytes=10-", 10) is None
    with pytest.raises(ValueError):
        parse_range("bytes=0-1,4-5", 10)
    with pytest.raises(ValueError):
        parse_range("items=0-1", 10)


def test_upload_through_the_admin_is_playable(admin_client, song_files):
    admin_client.post(
        reverse("admin:catalog_song_add"),
        {
            "audio": SimpleUploadedFile("Uploaded.wav", song_files[2].path.read_bytes()),
            "title": "",
            "artist": "",
            "album": "",
        },
    )
    song = Song.objects.get()
    assert admin_client.get(audio_url(song), HTTP_RANGE="bytes=0-3").status_code == 206
