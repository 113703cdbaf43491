"""The admin's extras: the catalogue overview, uploading many files, re-fingerprinting in the background."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import jobs
from catalog.models import Fingerprint, Song
from recognition import conf

pytestmark = pytest.mark.django_db

UPLOAD_MANY = "admin:catalog_song_upload_many"
CHANGELIST = "admin:catalog_song_changelist"


@pytest.fixture
def tempdir_stays_empty():
    """Every temporary file in a fresh folder (the request's own spooled uploads); fails if any is left."""
    folder = tempfile.mkdtemp(prefix="jamjar-admin-test-")
    saved, tempfile.tempdir = tempfile.tempdir, folder
    try:
        yield folder
        assert os.listdir(folder) == []
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


def finished_job(response) -> jobs.Job:
    """The batch a response redirected to, once it is done."""
    assert response.status_code == 302, response.content.decode()[:2000]
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    job = jobs.get(job_id)
    assert job is not None and job.wait(timeout_s=60)
    return job


def test_changelist_shows_the_overview_and_the_batch_tools(admin_client, catalogue):
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    fingerprints = sum(song.fingerprint_count for song in catalogue.values())
    assert "4 songs" in page
    assert f"{fingerprints:,} fingerprints" in page
    assert "0.03 hours of audio" in page  # 4 x 24 s
    assert "database" in page
    assert reverse(UPLOAD_MANY) in page
    assert 'value="refingerprint_selected"' in page and 'value="delete_selected"' in page


def test_upload_page_has_a_multiple_file_input(admin_client):
    page = admin_client.get(reverse(UPLOAD_MANY)).content.decode()
    assert 'type="file"' in page and "multiple" in page
    assert "100.0\xa0MB" in page


def test_upload_page_wants_at_least_one_file(admin_client):
    response = admin_client.post(reverse(UPLOAD_MANY), {})
    assert response.status_code == 200
    assert "Choose at least one file." in response.content.decode()


def test_upload_page_is_for_staff_only(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("listener", password="pw"))
    response = client.get(reverse(UPLOAD_MANY))
    assert response.status_code == 302 and "login" in response["Location"]


def test_unknown_batch_is_404(admin_client):
    assert admin_client.get(reverse("admin:catalog_song_job", args=["nope"])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_many_files_are_catalogued_in_the_background_each_error_reported(
    admin_client, song_files, settings, tempdir_stays_empty
):
    settings.JAMJAR = {"api_max_track_bytes": 3_000_000}
    first, second = (track.path.read_bytes() for track in song_files[:2])
    files = [
        SimpleUploadedFile("First.wav", first),
        SimpleUploadedFile("Second.mp3", second),  # a WAV under another name: the content decides
        SimpleUploadedFile("noise.sln", os.urandom(30_000)),
        SimpleUploadedFile("empty.wav", b""),
        SimpleUploadedFile("First again.wav", first),
        SimpleUploadedFile("huge.wav", b"\x00" * 3_000_001),
    ]
    job = finished_job(admin_client.post(reverse(UPLOAD_MANY), {"files": files}))

    assert sorted(Song.objects.values_list("title", flat=True)) == ["First", "Second"]
    assert all(song.audio and song.audio.storage.exists(song.audio.name) for song in Song.objects.all())
    assert Fingerprint.objects.count() == sum(Song.objects.values_list("fingerprint_count", flat=True))
    outcomes = {outcome.label: outcome for outcome in job.outcomes}
    assert [name for name, outcome in outcomes.items() if not outcome.ok] == [
        "noise.sln",
        "empty.wav",
        "huge.wav",
    ]
    assert "already in the catalogue" in outcomes["First again.wav"].message
    # The batch's copies were spooled under MEDIA_ROOT/incoming and are gone with the batch.
    assert os.listdir(os.path.join(settings.MEDIA_ROOT, "incoming")) == []

    response = admin_client.get(reverse("admin:catalog_song_job", args=[job.id]))
    page = response.content.decode()
    reported = [str(message) for message in get_messages(response.wsgi_request)]
    assert reported[0] == "Upload of 6 file(s): 3 done, 3 failed."
    assert any(text.startswith("noise.sln: not audio jamjar can read") for text in reported)
    assert "empty.wav: the file is empty" in reported
    assert any(text.startswith("huge.wav:") and "over the limit" in text for text in reported)
    assert 'http-equiv="refresh"' not in page  # done: the page stops refreshing
    assert "6 of 6 done, 3 failed" in page
    # Messages are given once; the table stays.
    again = admin_client.get(reverse("admin:catalog_song_job", args=[job.id]))
    assert list(get_messages(again.wsgi_request)) == []
    assert "noise.sln" in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_refingerprint_action_runs_in_the_background(admin_client, catalogue, song_files, settings):
    settings.JAMJAR_FINGERPRINT = {"fan_out": 5}
    version = conf.fingerprint_params().version
    chosen = [catalogue[11], catalogue[12], catalogue[13]]
    os.unlink(catalogue[13].source_path)  # its audio is gone: that one fails, the others go on
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "refingerprint_selected", "_selected_action": [song.pk for song in chosen]},
    )
    job = finished_job(response)
    songs = {song.pk: song for song in Song.objects.all()}
    assert songs[catalogue[11].pk].params_version == songs[catalogue[12].pk].params_version == version
    assert songs[catalogue[13].pk].params_version == songs[catalogue[14].pk].params_version != version
    assert (
        Fingerprint.objects.filter(song_id=catalogue[11].pk).count()
        == songs[catalogue[11].pk].fingerprint_count
    )
    failed = job.failed
    assert [outcome.label for outcome in failed] == [str(catalogue[13])]
    assert "is missing" in failed[0].message


def test_a_batch_goes_on_past_failures_and_always_cleans_up(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()

    def work(item):
        if item == 2:
            raise jobs.ItemFailed("two is not allowed")
        if item == 3:
            raise RuntimeError("boom")
        return f"did {item}"

    job = jobs.start(title="numbers", items=[1, 2, 3, 4], label=str, work=work, cleanup_folder=str(folder))
    assert job.wait(timeout_s=10)
    assert [(o.label, o.ok, o.message) for o in job.outcomes] == [
        ("1", True, "did 1"),
        ("2", False, "two is not allowed"),
        ("3", False, "unexpected error: boom"),
        ("4", True, "did 4"),
    ]
    assert not folder.exists() and job.percent == 100
    assert jobs.get(job.id).outcomes == job.outcomes  # as any process sharing the cache sees it
