"""The recognition log in the admin: branding, readable numbers, the song linked, where each question came from."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from recognition.models import Recognition

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recognition_recognition_changelist"


def test_admin_is_branded_jamjar(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "jamjar administration" in page and "Django administration" not in page
    assert "<title>Catalogue and recognition log | jamjar admin</title>" in page


def test_log_rounds_numbers_and_links_the_song(admin_client, catalogue):
    song = catalogue[12]
    Recognition.objects.create(
        source="file",
        song=song,
        offset_s=98.592,
        confidence=12345,
        score=0.09112,
        listened_s=15.2874,
        match_time_ms=43.09775899901069,
        file_name="/home/me/clips/clip.mp3",
    )
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f'<a href="{reverse("admin:catalog_song_change", args=[song.pk])}">{song}</a>' in page
    for shown in (
        "1:38.6",
        "12,345",
        "0.09",
        "15.3 s",
        "43.1 ms",
        '<span title="/home/me/clips/clip.mp3">clip.mp3</span>',
    ):
        assert shown in page, shown
    for raw in ("43.09775899901069", "98.592", "15.2874"):
        assert raw not in page


def test_recognize_command_logs_the_file(catalogue, song_files):
    call_command("recognize", str(song_files[0].path), "--seconds", "2", stdout=StringIO(), stderr=StringIO())
    assert Recognition.objects.get().file_name == str(song_files[0].path)


def test_api_logs_the_upload_name_client_address_and_user(
    client, django_user_model, catalogue, song_files, admin_client
):
    user = django_user_model.objects.create_user("listener", password="pw-listener-123")
    client.force_login(user)
    with open(song_files[1].path, "rb") as clip:
        assert client.post("/api/recognize/", {"audio": clip}, REMOTE_ADDR="198.51.100.7").status_code == 200
    logged = Recognition.objects.get()
    assert (logged.source, logged.file_name, logged.client_address, logged.user) == (
        "api",
        song_files[1].path.name,
        "198.51.100.7",
        user,
    )
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "198.51.100.7" in page and "listener" in page
    entry = admin_client.get("/api/recognitions/").json()["results"][0]
    assert (entry["file_name"], entry["client_address"], entry["user"]) == (
        song_files[1].path.name,
        "198.51.100.7",
        "listener",
    )


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_logs_the_client_address(catalogue):
    from tests.recognition.test_consumer import song_pcm, started, stream_until_answer

    comm = await started(client=("203.0.113.9", 40000))
    answer, _ = await stream_until_answer(comm, song_pcm(13, start_s=2.0, seconds=8.0))
    assert answer["type"] == "match"
    # The answer is sent before it is logged; the socket closes once it is.
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"
    logged = await Recognition.objects.aget()
    assert (logged.source, logged.client_address, logged.user_id) == ("browser", "203.0.113.9", None)
