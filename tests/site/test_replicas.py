"""Read replicas with real MariaDB processes: a primary writing its binary log and a replica
following it.  Catalogue lookups go to the replica, writes to the primary, and a client that
has just written reads its write from the primary; a replica that goes away, or whose
replication stops or falls too far behind, is left out with a warning and used again once it
is back, with no restart.

To show where a read went, the replica is made to lag (MASTER_DELAY): it then lacks what was
just written on the primary, while replicating within the bound these tests set."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.audio_fixtures import synth_song, write_wav
from tests.servers import ROOT, JamjarServer, MariaDB, MariaDBReplica, replication_primary, wait_until

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
        # Far more than a test takes: a delayed replica stays in use (a test may lower it).
        "DATABASE_REPLICA_MAX_LAG_S": "600",
    }
    environment.pop("REDIS_URL", None)
    return environment


@contextlib.contextmanager
def serving(databases, env):
    """scripts/serve over the primary and the replica, caught up; yields it and the titles the
    catalogue holds.  Afterwards the replica replicates without delay and has caught up."""
    primary, replica = databases
    manage(env, "migrate", "-v0")
    replica.catch_up()
    server = JamjarServer(env)
    try:
        yield server, titles_listed_directly(primary)
    finally:
        server.stop()
        replica.delay(0)
        replica.catch_up()


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

    replica.delay(3600)  # the replica now lags behind: what it lacks shows where a read went
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

    replica.delay(0)
    replica.catch_up()
    assert recognised(env, clip) == "song 31"  # found through the replica once caught up
    fingerprints = primary.sql("SELECT COUNT(*) FROM jamjar.catalog_fingerprint")
    assert replica.sql("SELECT COUNT(*) FROM jamjar.catalog_fingerprint") == fingerprints


def test_a_client_reads_its_own_upload_at_once_while_the_replica_lags(databases, env, tmp_path):
    _, replica = databases
    with serving(databases, env) as (server, before):
        make_token = (
            "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
            "print(Token.objects.create(user=User.objects.create_user('uploader')).key)"
        )
        token = manage(env, "shell", "-v", "0", "-c", make_token).stdout.strip()
        song = write_wav(
            tmp_path / "Own Write.wav",
            synth_song(36, duration_s=12.0, sample_rate_hz=RATE_HZ),
            sample_rate_hz=RATE_HZ,
        )
        replica.delay(3600)  # the replica will not have the upload for an hour

        jar = http.cookiejar.CookieJar()
        client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))  # keeps cookies
        body, content_type = multipart("audio", song)
        upload = urllib.request.Request(
            f"{server.url}/api/songs/",
            data=body,
            headers={"Content-Type": content_type, "Authorization": f"Token {token}"},
        )
        with client.open(upload, timeout=60) as response:
            assert response.status == 201
            assert "jamjar_primary=1" in response.headers["Set-Cookie"]
        with client.open(f"{server.url}/api/songs/?ordering=id", timeout=20) as response:
            assert [song["title"] for song in json.load(response)["results"]] == [*before, "Own Write"]
        assert titles_listed(server) == before  # a client without the cookie: the replica, lagging


def multipart(field: str, path) -> tuple[bytes, str]:
    """A multipart/form-data body with the file as the field, and its Content-Type."""
    boundary = "jamjar-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{path.name}"\r\n\r\n'
    return head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def test_a_replica_that_goes_away_is_left_out_with_a_warning_then_used_again(databases, env, tmp_path):
    _, replica = databases
    with serving(databases, env) as (server, before):
        replica.delay(3600)
        add_song(env, tmp_path, seed=32)  # on the primary only, while the replica lags
        assert titles_listed(server) == before  # read from the replica

        replica.stop()
        assert titles_listed(server) == [*before, "song 32"]  # the primary answers at once
        replica.start()  # it does not replicate by itself after a restart (--skip-slave-start)
        replica.resume()  # still delayed: what it serves still lacks song 32
        wait_until(lambda: titles_listed(server) == before, timeout_s=15, what="reads back on the replica")
        log = server.log()
        assert "database replica replica1" in log and "is unreachable" in log
        assert "catalogue reads go to the primary until it is back" in log
        assert "is back: catalogue reads go to it again" in log
        assert "Traceback" not in log


def test_a_replica_whose_replication_stops_is_left_out_until_it_runs_again(databases, env, tmp_path):
    _, replica = databases
    with serving(databases, env) as (server, before):
        replica.delay(3600)
        add_song(env, tmp_path, seed=34)  # on the primary only, while the replica lags
        assert titles_listed(server) == before  # read from the replica, behind but within the bound

        replica.pause()  # STOP SLAVE: reachable, but no longer following the primary
        wait_until(
            lambda: titles_listed(server) == [*before, "song 34"], timeout_s=20, what="reads on the primary"
        )
        for _ in range(3):
            assert titles_listed(server) == [*before, "song 34"]
        replica.resume()  # START SLAVE, still delayed: used again, and it still lacks song 34
        wait_until(lambda: titles_listed(server) == before, timeout_s=20, what="reads back on the replica")
        log = server.log()
        warning = (
            f"database replica replica1 (127.0.0.1:{replica.port}) is not up to date: its replication has stopped "
            "(Slave_IO_Running No, Slave_SQL_Running No); catalogue reads go to the primary until it has caught up"
        )
        assert log.count(warning) == 1, log
        assert log.count("is replicating again, within the 600 s allowed behind the primary") == 1, log
        assert "is unreachable" not in log and "Traceback" not in log


def test_a_replica_further_behind_than_the_bound_is_left_out_until_it_has_caught_up(databases, env, tmp_path):
    _, replica = databases
    with serving(databases, {**env, "DATABASE_REPLICA_MAX_LAG_S": "2"}) as (server, before):
        assert titles_listed(server) == before
        replica.delay(3600)
        add_song(env, tmp_path, seed=35)  # the replica holds it back: more than 2 s behind soon
        wait_until(
            lambda: titles_listed(server) == [*before, "song 35"], timeout_s=20, what="reads on the primary"
        )
        replica.delay(0)
        replica.catch_up()
        wait_until(  # the router looks when it is asked: each try reads
            lambda: (
                titles_listed(server) == [*before, "song 35"]
                and "is replicating again, within the 2 s allowed" in server.log()
            ),
            timeout_s=20,
            what="reads back on the replica",
        )
        log = server.log()
        assert log.count("is not up to date: it is ") == 1, log
        assert "s behind the primary, more than the 2 s allowed" in log
        assert "Traceback" not in log


def test_a_user_who_may_not_see_replication_is_told_once_and_reads_the_replica(env):
    # Any MariaDB will do: the user is refused SHOW ALL SLAVES STATUS before it can say more.
    guarded = MariaDB()
    try:
        guarded.sql(
            "FLUSH PRIVILEGES; CREATE USER 'reader'@'127.0.0.1', 'reader'@'localhost'; "
            "GRANT SELECT ON jamjar.* TO 'reader'@'127.0.0.1', 'reader'@'localhost'"
        )
        reads = (
            "from django.db import router; from catalog.models import Song; from jamjar_site import routers; "
            "routers.REPLICATION_CHECK_S = 0; print(*[router.db_for_read(Song) for _ in range(3)])"
        )
        done = manage(
            {**env, "DATABASE_REPLICA_URLS": f"mysql://reader@127.0.0.1:{guarded.port}/jamjar"},
            "shell",
            "-v",
            "0",
            "-c",
            reads,
        )
    finally:
        guarded.remove()
    assert done.stdout.split() == ["replica1"] * 3, done.stderr
    assert done.stderr.count("cannot see its replication") == 1, done.stderr
    assert "SLAVE MONITOR" in done.stderr  # the server's own words name the privilege
    assert "grant the database user SLAVE MONITOR" in done.stderr


def titles_listed_directly(database) -> list[str]:
    rows = database.sql("SELECT title FROM jamjar.catalog_song ORDER BY id")
    return rows.splitlines() if rows else []
