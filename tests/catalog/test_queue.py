"""Batches on Celery workers: real worker processes and a real Redis (broker and progress).

fingerprint_dir --queue, the admin's uploads and re-fingerprinting run as tasks that any
worker takes; the broker going away mid-run is a clear error and leaves whole songs only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import jobs
from catalog.models import Fingerprint, Song
from jamjar_site.settings import redis_cache
from tests.conftest import subprocess_env
from tests.servers import ROOT, CeleryWorker, Redis, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis():
    server = Redis()
    yield server
    server.stop()


@pytest.fixture
def queue_settings(redis, settings):
    """This process and its workers share one Redis: the broker on db 1, progress on db 0."""
    settings.CACHES = {"default": redis_cache(redis.url)}
    settings.CELERY_BROKER_URL = broker_url(redis)
    return subprocess_env(REDIS_URL=redis.url, CELERY_BROKER_URL=broker_url(redis))


def broker_url(redis) -> str:
    return redis.url.rsplit("/", 1)[0] + "/1"


@pytest.fixture
def workers(queue_settings):
    started = []
    try:
        for name in ("one", "two"):
            started.append(CeleryWorker(queue_settings, name=name))
        yield started
    finally:
        for worker in started:
            worker.remove()


def fingerprint_dir(env, folder, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "fingerprint_dir", str(folder), "--queue", "--no-progress", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def assert_every_song_whole() -> None:
    for song in Song.objects.all():
        assert Fingerprint.objects.filter(song=song).count() == song.fingerprint_count > 0, song


def test_queued_folder_is_ingested_by_the_workers(song_files, workers, queue_settings):
    folder = song_files[0].path.parent
    (folder / "notes.mp3").write_bytes(b"not audio at all" * 100)
    done = fingerprint_dir(queue_settings, folder)
    assert done.returncode == 1, done.stderr  # the one file that is not audio
    assert "queued 5 file(s)" in done.stdout
    assert "new: 4  skipped: 0  failed: 1" in done.stdout, done.stdout
    assert "notes.mp3" in done.stderr
    assert sorted(Song.objects.values_list("title", flat=True)) == [f"song {t.seed}" for t in song_files]
    assert_every_song_whole()
    logs = "".join(worker.log() for worker in workers)
    assert logs.count("catalog.run_job_item") >= 5  # received and succeeded lines, by the workers

    again = fingerprint_dir(queue_settings, folder, "--ext", ".wav")
    assert again.returncode == 0, again.stderr
    assert "new: 0  skipped: 4  failed: 0" in again.stdout
    assert Song.objects.count() == 4


def test_admin_uploads_and_refingerprinting_run_on_the_workers(admin_client, song_files, workers, settings):
    files = [SimpleUploadedFile(t.path.name, t.path.read_bytes()) for t in song_files[:2]]
    response = admin_client.post(reverse("admin:catalog_song_upload_many"), {"files": files})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = jobs.get(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.queued and job.wait(timeout_s=120)
    assert [(o.label, o.ok) for o in job.outcomes] == [(t.path.name, True) for t in song_files[:2]]
    assert Song.objects.count() == 2 and all(song.audio for song in Song.objects.all())
    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    assert incoming.is_dir() and list(incoming.iterdir()) == []  # the batch's copies, removed
    assert_every_song_whole()

    Fingerprint.objects.all().delete()
    songs = list(Song.objects.order_by("pk"))
    response = admin_client.post(
        reverse("admin:catalog_song_changelist"),
        {"action": "refingerprint_selected", "_selected_action": [song.pk for song in songs]},
    )
    job = jobs.get(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.queued and job.wait(timeout_s=120)
    assert [o.ok for o in job.outcomes] == [True, True], job.outcomes
    assert_every_song_whole()
    page = admin_client.get(response["Location"]).content.decode()
    assert "2 of 2 done" in page


def test_broker_lost_mid_run_is_a_clear_error_and_leaves_whole_songs(many_songs, redis, queue_settings):
    total = len(list(many_songs.iterdir()))
    worker = CeleryWorker(queue_settings, name="lone")
    try:
        command = subprocess.Popen(
            [sys.executable, "manage.py", "fingerprint_dir", str(many_songs), "--queue", "--no-progress"],
            cwd=ROOT,
            env=queue_settings,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: Song.objects.count() >= 2, timeout_s=180, what="two songs ingested")
        redis.stop()  # broker and progress gone while the worker is busy
        stdout, stderr = command.communicate(timeout=60)
        assert command.returncode == 1, stdout + stderr
        assert "lost Redis while following batch" in stderr
        assert "every song stored is whole; run again once Redis is back" in stderr
        assert "Traceback" not in stderr
        time.sleep(2)  # let the worker finish (or drop) the item it had in hand
        stored = Song.objects.count()
        assert 2 <= stored < total
        assert_every_song_whole()

        redis.start()  # empty: what was queued is gone with it
        again = fingerprint_dir(queue_settings, many_songs)
        assert again.returncode == 0, again.stdout + again.stderr + worker.log()
        # The item in hand when Redis went may have been stored after the count above.
        new, skipped = (int(again.stdout.split(f"{word}: ")[1].split()[0]) for word in ("new", "skipped"))
        assert new + skipped == total and skipped >= stored, again.stdout
        assert Song.objects.count() == total
        assert_every_song_whole()
    finally:
        worker.remove()
