"""Read replicas with real MariaDB processes: a primary writing its binary log and a replica
following it.  Catalogue lookups go to the replica, writes to the primary; a replica that
goes away is left out with a warning and used again once it is back, with no restart."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys

import pytest

from tests.audio_fixtures import synth_song, write_wav
from tests.servers import ROOT, JamjarServer, MariaDBReplica, replication_primary, wait_until

pytestmark = [pytest.mark.slow]

RATE_HZ = 16000


@pytest.fixture(scope="module")
def databases():
    primary = replication_primary()
    replica = None
    try:
        replica = MariaDBReplica(primary)
        yield primary, replica
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


@pytest.fixture
def env(databases, tmp_path):
    primary, replica = databases
    environment = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test",
        "DATABASE_URL": primary.url,
        "DATABASE_REPLICA_URLS": replica.url,
        "DJANGO_SETTINGS_MODULE": "jamjar_site.settings",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "JAMJAR_ENV_FILE": "",
    }
    environment.pop("REDIS_URL", None)
    return environment


def manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=check, capture_output=True, text=True
    )


def add_song(env, folder, seed: int):
    """One generated song catalogued with fingerprint_dir; returns the path of a clip of it."""
    songs = folder / f"songs-{seed}"
    songs.mkdir()
    samples = synth_song(seed, duration_s=12.0, sample_rate_hz=RATE_HZ)
    write_wav(songs / f"song_{seed}.wav", samples, sample_rate_hz=RATE_HZ)
    manage(env, "fingerprint_dir", str(songs), "--workers", "1", "--no-progress")
    clip = folder / f"clip-{seed}.wav"
    write_wav(clip, samples[3 * RATE_HZ : 7 * RATE_HZ], sample_rate_hz=RATE_HZ)
    return clip


def recognised(env, clip) -> str | None:
    """The title recognize --json names for the clip, or None."""
    line = json.loads(manage(env, "recognize", str(clip), "--json").stdout)
    return line["match"]["title"] if line["match"] else None


def titles_listed(server) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request("GET", "/api/songs/?ordering=id")
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 200, body
    return [song["title"] for song in body["results"]]


def test_lookups_use_the_replica_and_writes_the_primary(databases, env, tmp_path):
    primary, replica = databases
    manage(env, "migrate", "-v0")
    replica.catch_up()
    assert "catalog_song" in replica.sql("SHOW TABLES FROM jamjar")

    replica.pause()  # the replica now lags behind: what it lacks shows where a read went
    clip = add_song(env, tmp_path, seed=31)
    assert primary.sql("SELECT title FROM jamjar.catalog_song") == "song 31"  # the write: primary
    assert replica.sql("SELECT COUNT(*) FROM jamjar.catalog_song") == "0"
    assert recognised(env, clip) is None  # the lookup: replica, which has no song yet
    without_replicas = {**env, "DATABASE_REPLICA_URLS": ""}
    assert recognised(without_replicas, clip) == "song 31"

    # A command that has written reads the catalogue from the primary from then on.
    song_33 = tmp_path / "song_33.wav"
    write_wav(song_33, synth_song(33, duration_s=12.0, sample_rate_hz=RATE_HZ), sample_rate_hz=RATE_HZ)
    read_your_write = (
        "from catalog import services; from catalog.models import Song; before = Song.objects.count(); "
        f"services.ingest_file({str(song_33)!r}); print(before, Song.objects.count())"
    )
    assert manage(env, "shell", "-v", "0", "-c", read_your_write).stdout.split() == ["0", "2"]

    replica.resume()
    replica.catch_up()
    assert recognised(env, clip) == "song 31"  # found through the replica once caught up
    fingerprints = primary.sql("SELECT COUNT(*) FROM jamjar.catalog_fingerprint")
    assert replica.sql("SELECT COUNT(*) FROM jamjar.catalog_fingerprint") == fingerprints


def test_a_replica_that_goes_away_is_left_out_with_a_warning_then_used_again(databases, env, tmp_path):
    primary, replica = databases
    manage(env, "migrate", "-v0")
    replica.catch_up()
    before = titles_listed_directly(primary)
    server = JamjarServer(env)
    try:
        replica.pause()
        add_song(env, tmp_path, seed=32)  # on the primary only, while the replica lags
        assert titles_listed(server) == before  # read from the replica

        replica.stop()
        assert titles_listed(server) == [*before, "song 32"]  # the primary answers at once
        replica.start()  # without replicating: what it serves still lacks song 32
        wait_until(lambda: titles_listed(server) == before, timeout_s=10, what="reads back on the replica")
        log = server.log()
        assert "database replica replica1" in log and "is unreachable" in log
        assert "catalogue reads go to the primary until it is back" in log
        assert "is back: catalogue reads go to it again" in log
        assert "Traceback" not in log
    finally:
        server.stop()
        replica.resume()
        replica.catch_up()


def titles_listed_directly(database) -> list[str]:
    rows = database.sql("SELECT title FROM jamjar.catalog_song ORDER BY id")
    return rows.splitlines() if rows else []
