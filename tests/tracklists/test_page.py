"""The staff track list page: upload, the timeline's page, CSV and CUE downloads, and who may see them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from tracklists import jobs
from tracklists.models import Tracklist


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_user("curator", is_staff=True))
    return client


@pytest.mark.django_db(transaction=True)
def test_upload_on_the_page_then_timeline_and_downloads(catalogue, recording, staff_client):
    with recording.path.open("rb") as handle:
        response = staff_client.post("/admin/tracklists/", {"audio": handle})
    tracklist = Tracklist.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/tracklists/{tracklist.pk}/"
    assert jobs.wait_all(timeout_s=120)

    page = staff_client.get(f"/admin/tracklists/{tracklist.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-api-url="/api/tracklists/{tracklist.pk}/"' in html
    # The CSP allows no inline script: every script has a src.
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    assert '<script type="module" src="/static/tracklists/timeline.js">' in html
    assert "script-src 'self'" in page["Content-Security-Policy"]

    csv_answer = staff_client.get(f"/admin/tracklists/{tracklist.pk}/tracklist.csv")
    assert csv_answer["Content-Disposition"] == 'attachment; filename="mix.csv"'
    lines = csv_answer.content.decode().splitlines()
    assert lines[0].startswith("start_s,end_s,song_id,title") and len(lines) == 1 + len(recording.seeds)
    cue = staff_client.get(f"/admin/tracklists/{tracklist.pk}/tracklist.cue").content.decode()
    assert cue.count("INDEX 01") == len(recording.seeds)

    listing = staff_client.get("/admin/tracklists/").content.decode()
    assert "mix.wav" in listing and "Done" in listing


@pytest.mark.django_db
def test_non_staff_are_sent_to_sign_in(client):
    client.force_login(User.objects.create_user("listener"))
    for url in ("/admin/tracklists/", "/admin/tracklists/1/", "/admin/tracklists/1/tracklist.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_downloads_of_an_unfinished_job_are_404(staff_client):
    tracklist = Tracklist.objects.create(name="later.mp3")
    assert staff_client.get(f"/admin/tracklists/{tracklist.pk}/tracklist.cue").status_code == 404


@pytest.mark.django_db
def test_admin_lists_jobs_and_plays(staff_client):
    Tracklist.objects.create(name="set.flac", status=Tracklist.Status.FAILED, error="set.flac: broken")
    staff_client.force_login(User.objects.create_superuser("root", password="x"))
    listing = staff_client.get("/admin/tracklists/tracklist/").content.decode()
    assert "set.flac" in listing and "Upload a recording" in listing
    assert staff_client.get("/admin/tracklists/play/").status_code == 200
    assert staff_client.get("/admin/tracklists/station/").status_code == 200
