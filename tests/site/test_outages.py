"""A database or Redis that goes away and comes back: JSON 503 and websocket 1013 meanwhile,
normal service within 5 s of its return, no restart, and nothing lost from the catalogue."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect

from tests.audio_fixtures import synth_song, write_wav
from tests.conftest import subprocess_env
from tests.servers import ROOT, JamjarServer, MariaDB, Redis

pytestmark = [pytest.mark.slow]

RECOVERY_S = 5.0


def get(server, path):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.getheader("Retry-After"), json.loads(response.read() or b"null")


def post_pcm(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request(
        "POST",
        "/api/recognize/?sample_rate=16000",
        body=b"\0\0" * 16000,
        headers={"Content-Type": "application/octet-stream"},
    )
    response = conn.getresponse()
    return response.status, response.getheader("Retry-After"), json.loads(response.read() or b"null")


def live_start(server) -> tuple[dict, int | None]:
    """Open /ws/identify/, send start; the first answer and the close code (None if still open)."""
    with connect(
        f"ws://127.0.0.1:{server.port}/ws/identify/", origin="http://localhost", open_timeout=20
    ) as ws:
        with contextlib.suppress(Exception):
            ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        answer = json.loads(ws.recv(timeout=20))
        if answer["type"] == "error":
            with contextlib.suppress(Exception):
                ws.recv(timeout=5)
            return answer, ws.close_code
        return answer, None


def back_within(check, *, timeout_s: float) -> float:
    """Seconds until check() is true; fails after timeout_s."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not back within {timeout_s} s")


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


def test_database_outage_is_503_and_1013_then_service_returns(tmp_path):
    db = MariaDB()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test",
        "DATABASE_URL": db.url,
        "DJANGO_SETTINGS_MODULE": "jamjar_site.settings",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("REDIS_URL", None)
    server = None
    try:
        manage(env, "migrate", "-v0")
        (tmp_path / "songs").mkdir()
        write_wav(
            tmp_path / "songs" / "a.wav",
            synth_song(21, duration_s=12.0, sample_rate_hz=16000),
            sample_rate_hz=16000,
        )
        manage(env, "fingerprint_dir", str(tmp_path / "songs"), "--workers", "1", "--no-progress")
        server = JamjarServer(env)
        status, _, song = get(server, "/api/songs/1/")
        assert status == 200
        assert live_start(server)[0]["type"] == "listening"

        db.stop()
        status, retry_after, body = get(server, "/api/songs/1/")
        assert (status, retry_after) == (503, "5"), body
        assert "try again" in body["detail"]
        answer, close_code = live_start(server)
        assert (answer["type"], answer.get("code"), close_code) == ("error", "unavailable", 1013)

        db.start()
        back_within(lambda: get(server, "/api/songs/1/")[0] == 200, timeout_s=RECOVERY_S)
        back_within(lambda: live_start(server)[0]["type"] == "listening", timeout_s=RECOVERY_S)
        assert get(server, "/api/songs/1/")[2]["fingerprint_count"] == song["fingerprint_count"]
        assert "Traceback" not in server.log()
    finally:
        if server is not None:
            server.stop()
        db.remove()


@pytest.mark.django_db(transaction=True)
def test_redis_outage_is_503_and_1013_then_service_returns():
    redis = Redis()
    server = JamjarServer(subprocess_env(DEBUG="0", REDIS_URL=redis.url))
    try:
        assert post_pcm(server)[0] == 200
        assert live_start(server)[0]["type"] == "listening"

        redis.stop()
        status, retry_after, body = post_pcm(server)  # the throttle's counts are in Redis
        assert (status, retry_after) == (503, "5"), body
        answer, close_code = live_start(server)
        assert (answer["type"], answer.get("code"), close_code) == ("error", "unavailable", 1013)
        assert get(server, "/api/songs/")[0] == 200  # what needs no Redis goes on

        redis.start()
        back_within(lambda: post_pcm(server)[0] == 200, timeout_s=RECOVERY_S)
        back_within(lambda: live_start(server)[0]["type"] == "listening", timeout_s=RECOVERY_S)
        assert "Traceback" not in server.log()
    finally:
        server.stop()
        redis.stop()
