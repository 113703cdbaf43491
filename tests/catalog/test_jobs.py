"""What a worker takes from a broker message: only marked batch work, only jamjar's dataclasses."""

from __future__ import annotations

import pytest

from catalog import bulk, jobs
from catalog.jobs import UploadedTrack, refingerprint


def test_a_worker_finds_marked_work_by_name():
    assert jobs.function_named(jobs.function_name(bulk.ingest_queued_file)) is bulk.ingest_queued_file
    assert jobs.function_named("catalog.jobs:refingerprint") is refingerprint


@pytest.mark.parametrize(
    "name",
    ["os:system", "catalog.jobs:shutil", "catalog.services:delete_songs", "catalog.jobs:shutil.rmtree"],
)
def test_a_worker_refuses_any_other_function(name):
    with pytest.raises(ValueError, match="is not a batch work function"):
        jobs.function_named(name)


def test_only_marked_module_level_work_is_queued(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # never reached: refused before

    def local(item):
        return "done"

    with pytest.raises(ValueError, match="needs a module-level function"):
        jobs.start(title="t", items=[1], label=str, work=local)
    with pytest.raises(ValueError, match=r"mark it with catalog\.jobs\.batch_work"):
        jobs.start(title="t", items=[1], label=str, work=jobs.spool_folder)


def test_items_travel_as_json_and_come_back(catalogue):
    track = UploadedTrack("a.mp3", "/tmp/x", None)
    assert jobs.decode(jobs.encode(track)) == track
    song = catalogue[11]
    assert jobs.encode(song) == {"model": "catalog.song", "pk": song.pk}
    assert jobs.decode(jobs.encode(song)) == song
    with pytest.raises(ValueError, match="not a dataclass of jamjar"):
        jobs.decode({"dataclass": "subprocess:Popen", "fields": {"args": ["true"]}})
    with pytest.raises(TypeError, match="cannot be sent to a worker"):
        jobs.encode(object())


def test_a_broker_without_a_shared_cache_is_refused_at_start_up(settings):
    from catalog.checks import check_queue_progress_is_shared

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/1"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [error.id for error in check_queue_progress_is_shared(None)] == ["jamjar.E010"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    }
    assert check_queue_progress_is_shared(None) == []
