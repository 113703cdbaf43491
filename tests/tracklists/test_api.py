"""The track list job API: who may use it, and a job's life (queued, running, done, failed)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tracklists import jobs, services
from tracklists.models import Tracklist, TracklistSegment

URL = "/api/tracklists/"


@pytest.fixture
def staff(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("curator", is_staff=True))
    return client


@pytest.fixture
def token_client(db):
    client = APIClient()
    token = Token.objects.create(user=User.objects.create_user("robot"))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def member(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("listener"))  # signed in, not staff, no token
    return client


def upload(client, path, name=None):
    with open(path, "rb") as handle:
        return client.post(
            URL, {"audio": (handle if name is None else _named(handle, name))}, format="multipart"
        )


def _named(handle, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, handle.read())


@pytest.mark.django_db(transaction=True)
def test_a_job_is_queued_then_runs_then_is_done_with_its_segments(catalogue, recording, staff):
    response = upload(staff, recording.path)
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] in {"queued", "running", "done"} and job["file"] == "mix.wav"
    assert jobs.wait_all(timeout_s=120)

    done = staff.get(f"{URL}{job['id']}/").json()
    assert done["status"] == "done" and done["progress"] == 1.0 and done["error"] == ""
    assert done["duration_s"] == pytest.approx(recording.duration_s, abs=0.01)
    songs = [s["song"]["song_id"] if s["song"] else None for s in done["segments"]]
    assert songs == [catalogue[seed].pk if seed else None for seed in recording.seeds]
    assert not Tracklist.objects.get(pk=job["id"]).audio  # the upload is not kept


@pytest.mark.django_db
def test_status_reads_queued_before_the_runner_and_running_during_it(
    catalogue, recording, staff, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # The job is handed to the runner once its row is committed; held back here, it waits.
    with django_capture_on_commit_callbacks(execute=False) as handed_over:
        tracklist = services.create_tracklist(
            upload=SimpleUploadedFile("mix.wav", recording.path.read_bytes())
        )
    assert len(handed_over) == 1
    assert staff.get(f"{URL}{tracklist.pk}/").json()["status"] == "queued"

    seen = []
    services.run_tracklist(
        tracklist.pk, on_progress=lambda row: seen.append(staff.get(f"{URL}{row.pk}/").json())
    )
    assert seen and all(answer["status"] == "running" and answer["segments"] == [] for answer in seen)
    assert 0 < seen[0]["progress"] < 1
    assert staff.get(f"{URL}{tracklist.pk}/").json()["status"] == "done"


@pytest.mark.django_db(transaction=True)
def test_a_file_that_is_not_audio_fails_with_its_reason_and_no_segments(db, tmp_path, token_client):
    junk = tmp_path / "radio.mp3"
    junk.write_bytes(b"\x00\x01 not audio at all " * 500)
    response = upload(token_client, junk)
    assert response.status_code == 202
    assert jobs.wait_all(timeout_s=60)
    failed = token_client.get(f"{URL}{response.json()['id']}/").json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith("radio.mp3: not decodable audio")
    assert "jamjar-" not in failed["error"] and "/" not in failed["error"]  # the upload's name, not a path
    assert failed["segments"] == [] and TracklistSegment.objects.count() == 0


@pytest.mark.django_db
def test_anonymous_and_plain_members_may_not_use_jobs(anon_client, member, recording, catalogue):
    assert upload(anon_client, recording.path).status_code == 401
    assert upload(member, recording.path).status_code == 403
    assert Tracklist.objects.count() == 0
    tracklist = Tracklist.objects.create(name="x.wav")
    assert anon_client.get(f"{URL}{tracklist.pk}/").status_code == 401
    assert member.get(f"{URL}{tracklist.pk}/").status_code == 403


@pytest.mark.django_db
def test_an_upload_without_audio_is_a_400(staff):
    response = staff.post(URL, {}, format="multipart")
    assert response.status_code == 400 and "audio" in response.json()


@pytest.mark.django_db
def test_an_unknown_job_is_a_404(staff):
    assert staff.get(f"{URL}987654/").status_code == 404


@pytest.fixture
def anon_client():
    return APIClient()
