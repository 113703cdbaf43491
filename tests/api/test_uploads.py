"""Uploads that fail leave nothing behind: a full disk, a track too long."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from catalog.models import Fingerprint, Song
from tests.api.conftest import song_samples, wav_bytes
from tests.conftest import SONG_RATE_HZ

pytestmark = pytest.mark.django_db


def files_below(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of its own (tmpfs), to be filled by an upload."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def upload(client, wav: bytes, name="track.wav"):
    audio = io.BytesIO(wav)
    audio.name = name
    return client.post("/api/songs/", {"audio": audio}, format="multipart")


def test_a_full_disk_is_507_and_leaves_no_file_and_no_row(staff_client, settings, small_disk):
    settings.MEDIA_ROOT = str(small_disk)
    songs, fingerprints = Song.objects.count(), Fingerprint.objects.count()
    response = upload(staff_client, wav_bytes(song_samples(31), sample_rate_hz=SONG_RATE_HZ))  # 2.1 MB
    assert response.status_code == 507, response.content[:300]
    assert "disk is full" in response.json()["detail"]
    assert files_below(small_disk) == []
    assert (Song.objects.count(), Fingerprint.objects.count()) == (songs, fingerprints)
    # and the disk is usable again: a file that fits is stored
    settings.JAMJAR = {}
    small = wav_bytes(song_samples(32)[: SONG_RATE_HZ * 8], sample_rate_hz=SONG_RATE_HZ)  # 0.7 MB
    assert upload(staff_client, small).status_code == 201
    assert len(files_below(small_disk)) == 1


def test_a_track_over_the_duration_limit_is_413_and_leaves_nothing(staff_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JAMJAR = {"api_max_track_s": 10}
    response = upload(staff_client, wav_bytes(song_samples(33), sample_rate_hz=SONG_RATE_HZ), name="long.wav")
    assert response.status_code == 413
    assert response.json()["detail"] == "long.wav is longer than the limit of 10 s of audio."
    assert not Song.objects.filter(original_filename="long.wav").exists()
    assert files_below(tmp_path / "media") == [] if (tmp_path / "media").exists() else True
