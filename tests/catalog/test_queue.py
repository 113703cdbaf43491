"""Batches on Celery workers: real worker processes and a real Redis (broker and progress).

fingerprint_dir --queue, refingerprint --queue, the admin's uploads and re-fingerprinting run
as tasks that any worker takes; the broker going away mid-run is a clear error and leaves
whole songs only.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import jobs, services
from catalog.models import Fingerprint, Song
from jamjar_site.settings import redis_cache
from recognition import conf
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


@contextlib.contextmanager
def celery_workers(env, *names: str):
    started = []
    try:
        for name in names:
            started.append(CeleryWorker(env, name=name))
        yield started
    finally:
        for worker in started:
            worker.remove()


@pytest.fixture
def workers(queue_settings):
    with celery_workers(queue_settings, "one", "two") as started:
        yield started


# Parameters other than the defaults the songs were catalogued with: a re-fingerprint changes
# every song's version and rows.
OTHER_PARAMS = {"fan_out": 6}


@pytest.fixture
def other_params(queue_settings):
    """The environment of a command and workers fingerprinting with OTHER_PARAMS; its version."""
    env = {**queue_settings, "JAMJAR_FINGERPRINT": json.dumps(OTHER_PARAMS)}
    return env, conf.fingerprint_params().replace(**OTHER_PARAMS).version


def fingerprint_dir(env, folder, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "fingerprint_dir", str(folder), "--queue", "--no-progress", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def refingerprint(env, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "refingerprint", "--queue", "--no-progress", *extra],
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


def test_refingerprinting_is_queued_one_task_a_song_on_workers_of_the_same_parameters(
    catalogue, other_params, queue_settings
):
    env, new_version = other_params
    old_version = conf.fingerprint_params().version
    before = {song.pk: (song.params_version, song.fingerprint_count) for song in Song.objects.all()}
    with celery_workers(env, "new-params") as (worker,):
        # A command of the old parameters: the workers, of other ones, refuse every song.
        refused = refingerprint(queue_settings, "--all")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "queued 4 song(s)" in refused.stdout
        assert f"re-fingerprinted 0 song(s) with {old_version}; 4 failed" in refused.stdout
        assert f"this worker fingerprints with {new_version}, not {old_version}" in refused.stderr
        assert "give every worker the same JAMJAR_FINGERPRINT" in refused.stderr
        assert {
            song.pk: (song.params_version, song.fingerprint_count) for song in Song.objects.all()
        } == before

        lost = catalogue[13]
        Path(lost.source_path).unlink()
        done = refingerprint(env)  # the songs not of the new version: all four
        assert done.returncode == 1, done.stdout + done.stderr
        assert "queued 4 song(s)" in done.stdout
        assert f"re-fingerprinted 3 song(s) with {new_version}; 1 failed" in done.stdout
        assert f"failed: {lost}: song {lost.pk} ({lost})" in done.stderr and "is missing" in done.stderr
        assert worker.log().count("catalog.run_job_item") >= 8  # both batches ran on the worker
    versions = dict(Song.objects.values_list("pk", "params_version"))
    assert versions.pop(lost.pk) == old_version  # kept its old fingerprints, whole
    assert set(versions.values()) == {new_version}
    assert_every_song_whole()
    for song in Song.objects.exclude(pk=lost.pk):
        assert song.fingerprint_count > before[song.pk][1]  # each anchor paired with more peaks


def test_refingerprint_no_wait_returns_once_the_songs_are_queued(catalogue, other_params):
    env, new_version = other_params
    queued = refingerprint(env, "--no-wait")  # no worker yet: nothing can be done meanwhile
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.startswith("queued 4 song(s) as batch ")
    assert "re-fingerprinted" not in queued.stdout
    job = jobs.get(queued.stdout.split()[-1])
    assert job.queued and job.total == 4 and job.outcomes == []
    with celery_workers(env, "late"):
        assert job.wait(timeout_s=120)
    assert [outcome.ok for outcome in job.outcomes] == [True] * 4, job.outcomes
    assert set(Song.objects.values_list("params_version", flat=True)) == {new_version}
    assert_every_song_whole()


def test_broker_lost_mid_refingerprint_is_a_clear_error_and_every_song_stays_whole(
    many_songs, redis, other_params
):
    env, new_version = other_params
    for path in sorted(many_songs.iterdir()):
        services.ingest_file(path)
    total = Song.objects.count()
    with celery_workers(env, "lone") as (worker,):
        command = subprocess.Popen(
            [sys.executable, "manage.py", "refingerprint", "--queue", "--no-progress"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        redone = Song.objects.filter(params_version=new_version)
        wait_until(lambda: redone.count() >= 2, timeout_s=180, what="two songs re-fingerprinted")
        redis.stop()  # broker and progress gone while the worker is busy
        stdout, stderr = command.communicate(timeout=60)
        assert command.returncode == 1, stdout + stderr
        assert "lost Redis while following batch" in stderr
        assert "every song stored is whole; run again once Redis is back to finish" in stderr
        assert "songs already redone are skipped" in stderr
        assert "Traceback" not in stderr
        time.sleep(2)  # let the worker finish (or drop) the song it had in hand
        assert 2 <= redone.count() < total
        assert_every_song_whole()  # each with its old rows or its new ones, never a mix

        redis.start()  # empty: what was queued is gone with it
        again = refingerprint(env)
        assert again.returncode == 0, again.stdout + again.stderr + worker.log()
        left = int(again.stdout.split("queued ")[1].split()[0])
        assert 0 < left <= total - 2
        assert f"re-fingerprinted {left} song(s) with {new_version}; 0 failed" in again.stdout
    assert redone.count() == total
    assert_every_song_whole()
