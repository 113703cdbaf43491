"""Two server processes sharing one Redis: a client's API throttle and its live-session limit
are counted across both, as behind a load balancer."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import subprocess_env
from tests.servers import JamjarServer, Redis, wait_until
from tests.site.test_outages import post_pcm

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Per day: a window that cannot end in the middle of the test (short of midnight UTC).
RECOGNITIONS = 5
SESSIONS = 2


@pytest.fixture
def servers():
    redis = Redis()
    env = subprocess_env(
        DEBUG="0",
        REDIS_URL=redis.url,
        JAMJAR=json.dumps(
            {"api_anon_recognize_rate": f"{RECOGNITIONS}/day", "max_sessions_per_client": SESSIONS}
        ),
    )
    started = []
    try:
        for _ in range(2):
            started.append(JamjarServer(env))
        yield started
    finally:
        for server in started:
            server.stop()
        redis.stop()


def recognise_silence(server) -> int:
    return post_pcm(server)[0]


def test_the_api_throttle_counts_across_both_processes(servers):
    # Twice the allowance at once, half on each process: exactly the allowance gets through.
    with ThreadPoolExecutor(max_workers=2 * RECOGNITIONS) as pool:
        statuses = list(pool.map(recognise_silence, [servers[i % 2] for i in range(2 * RECOGNITIONS)]))
    assert sorted(statuses) == [200] * RECOGNITIONS + [429] * RECOGNITIONS, statuses
    assert recognise_silence(servers[0]) == 429 and recognise_silence(servers[1]) == 429


def open_session(server, sessions: contextlib.ExitStack):
    """A live session started on server, closed with sessions; (websocket, first answer)."""
    ws = sessions.enter_context(
        connect(f"ws://127.0.0.1:{server.port}/ws/identify/", origin="http://localhost", open_timeout=20)
    )
    # A refused session is answered and closed on connecting, maybe before this is sent;
    # the answer is read all the same.
    with contextlib.suppress(ConnectionClosed):
        ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
    return ws, json.loads(ws.recv(timeout=20))


def listens(server) -> bool:
    with contextlib.ExitStack() as sessions:
        return open_session(server, sessions)[1]["type"] == "listening"


def test_the_live_session_limit_holds_across_both_processes(servers):
    with contextlib.ExitStack() as sessions:
        first, answer = open_session(servers[0], sessions)
        assert answer["type"] == "listening"
        assert open_session(servers[1], sessions)[1]["type"] == "listening"
        for server in servers:  # a third, on either process, is one too many
            answer = open_session(server, sessions)[1]
            assert (answer["type"], answer["code"]) == ("error", "too-many-sessions"), answer
        first.close()  # its slot is given back (as the server sees the close), for either process
        wait_until(
            lambda: listens(servers[1]), timeout_s=10, what="the freed slot taken on the other process"
        )
