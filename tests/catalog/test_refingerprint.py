"""refingerprint: songs of another parameter version (or all) get fingerprints of the current one."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Fingerprint, Song
from recognition import conf

pytestmark = pytest.mark.django_db


def refingerprint(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("refingerprint", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows_of(song: Song) -> set[tuple[int, int]]:
    return set(Fingerprint.objects.filter(song_id=song.pk).values_list("hash", "offset_frames"))


def stamps() -> dict[int, object]:
    return dict(Song.objects.values_list("pk", "fingerprinted_at"))


def test_only_songs_of_another_version_are_redone(catalogue):
    stale = catalogue[12]
    before = rows_of(stale)
    Fingerprint.objects.filter(song_id=stale.pk).delete()  # as if made by other parameters
    Song.objects.filter(pk=stale.pk).update(params_version="h1-older", fingerprint_count=0)
    untouched = {pk: at for pk, at in stamps().items() if pk != stale.pk}

    out, _ = refingerprint()

    version = conf.fingerprint_params().version
    assert out.strip() == f"re-fingerprinted 1 song(s) with {version}; 0 failed"
    redone = Song.objects.get(pk=stale.pk)
    assert redone.params_version == version
    assert rows_of(redone) == before  # the same file and parameters make the same rows
    assert redone.fingerprint_count == len(before)
    assert {pk: at for pk, at in stamps().items() if pk != stale.pk} == untouched


def test_nothing_to_do_when_every_song_is_current(catalogue):
    before = stamps()
    out, _ = refingerprint()
    assert out.strip() == f"re-fingerprinted 0 song(s) with {conf.fingerprint_params().version}; 0 failed"
    assert stamps() == before


def test_all_redoes_every_song(catalogue):
    before = stamps()
    out, _ = refingerprint("--all")
    assert out.strip().startswith("re-fingerprinted 4 song(s)")
    after = stamps()
    assert all(after[pk] > before[pk] for pk in before)


def test_new_parameters_give_every_song_their_version_and_rows(catalogue, settings):
    old_version = catalogue[11].params_version
    old_counts = {song.pk: song.fingerprint_count for song in catalogue.values()}
    settings.JAMJAR_FINGERPRINT = {"fan_out": 6}
    new_version = conf.fingerprint_params().version
    assert new_version != old_version

    out, _ = refingerprint()

    assert out.strip() == f"re-fingerprinted 4 song(s) with {new_version}; 0 failed"
    for song in Song.objects.all():
        assert song.params_version == new_version
        assert Fingerprint.objects.filter(song_id=song.pk).count() == song.fingerprint_count
        assert song.fingerprint_count > old_counts[song.pk]  # each anchor paired with more peaks


def test_a_song_whose_audio_is_gone_fails_and_the_others_are_done(catalogue, settings):
    lost, kept_rows = catalogue[13], rows_of(catalogue[13])
    os.unlink(lost.source_path)
    settings.JAMJAR_FINGERPRINT = {"fan_out": 6}

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"1 song\(s\) could not be re-fingerprinted"):
        call_command("refingerprint", stdout=out, stderr=err)

    assert "re-fingerprinted 3 song(s)" in out.getvalue() and "1 failed" in out.getvalue()
    assert f"failed: song {lost.pk} ({lost})" in err.getvalue() and "is missing" in err.getvalue()
    new_version = conf.fingerprint_params().version
    versions = dict(Song.objects.values_list("pk", "params_version"))
    assert versions.pop(lost.pk) == lost.params_version  # kept its old fingerprints, whole
    assert set(versions.values()) == {new_version}
    assert rows_of(lost) == kept_rows


def test_a_changed_file_is_not_fingerprinted_as_the_song(catalogue):
    changed = catalogue[14]
    with open(changed.source_path, "r+b") as audio:
        audio.seek(-2, os.SEEK_END)
        audio.write(b"\x01\x02")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("refingerprint", "--all", stdout=out, stderr=err)
    assert "has changed since it was catalogued" in err.getvalue()
    assert "re-fingerprinted 3 song(s)" in out.getvalue()


def test_queue_without_a_broker_says_it_needs_one_and_changes_nothing(catalogue, settings):
    settings.CELERY_BROKER_URL = ""
    before = stamps()
    with pytest.raises(CommandError, match=r"--queue needs a task queue: set CELERY_BROKER_URL"):
        refingerprint("--all", "--queue")
    assert stamps() == before


def test_queue_with_the_broker_unreachable_is_a_clear_error_and_changes_nothing(catalogue, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    before = stamps()
    with pytest.raises(CommandError) as raised:
        refingerprint("--all", "--queue")
    message = str(raised.value)
    assert "the task queue at redis://127.0.0.1:1/0 cannot be reached" in message
    assert "0 of 4 item(s) were queued" in message and "run again once it is back" in message
    assert raised.value.returncode == 1
    assert stamps() == before
