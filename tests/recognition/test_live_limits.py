"""Live sessions give their slot back on every exit, and the websocket has the API's limits."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import websockets
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from jamjar_site.asgi import application
from recognition import limits
from tests.conftest import subprocess_env
from tests.recognition.test_consumer import communicator, expect_error, receive, start, started
from tests.servers import JamjarServer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

NOISE_PCM = (np.random.default_rng(1).normal(0, 3000, 16000 * 3)).astype("<i2").tobytes()


@pytest.mark.slow
async def test_clients_gone_while_their_answer_is_sent_give_their_slots_back():
    """The client closes right after sending more audio than max_listen_s: the server's
    answer goes to a closed connection.  That used to leak the slot, so with one slot per
    address every later connection got 4429 until the server restarted."""
    env = subprocess_env(DEBUG="0", JAMJAR=json.dumps({"max_sessions_per_client": 1, "max_listen_s": 2.0}))
    server = await asyncio.to_thread(JamjarServer, env)
    url = f"ws://127.0.0.1:{server.port}/ws/identify/"
    try:
        for _ in range(4):
            async with websockets.connect(url, origin="http://localhost") as ws:
                await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
                assert json.loads(await ws.recv())["type"] == "listening"
                for at in range(0, len(NOISE_PCM), 8000):
                    await ws.send(NOISE_PCM[at : at + 8000])
            # closed at once, while the server is still fingerprinting what it was sent
            await asyncio.sleep(1.0)
        async with websockets.connect(url, origin="http://localhost") as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            assert json.loads(await ws.recv())["type"] == "listening", server.log()
    finally:
        await asyncio.to_thread(server.stop)


async def test_the_slot_count_lives_in_the_cache_and_returns_to_zero(catalogue):
    comm = await started(("10.0.0.9", 1))
    assert limits.slots_in_use("10.0.0.9") == 1
    await comm.send_to(text_data=json.dumps({"type": "stop"}))
    assert (await receive(comm))["type"] in {"match", "no_match"}
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"
    assert limits.slots_in_use("10.0.0.9") == 0


async def test_live_recognitions_are_rate_limited_per_address(catalogue, settings):
    settings.JAMJAR = {"live_recognize_rate": "2/minute"}
    for port in (1, 2):
        comm = await started(("10.0.0.10", port))
        await comm.disconnect()
    third = communicator(("10.0.0.10", 3))
    assert (await third.connect())[0]
    await start(third)
    await expect_error(third, "too-many-recognitions", 4429)
    other = await started(("10.0.0.11", 1))  # another address is not counted with it
    await other.disconnect()


async def test_a_flood_of_tiny_frames_is_stopped(catalogue):
    comm = await started()
    for _ in range(200):
        await comm.send_to(bytes_data=b"\x00\x01")
    await expect_error(comm, "too-many-frames", 4429)


async def test_api_open_off_closes_the_websocket_to_anonymous_clients(catalogue, settings):
    settings.JAMJAR = {"api_open": False}
    comm = communicator()
    assert (await comm.connect())[0]
    await expect_error(comm, "not-allowed", 4403)


async def test_a_token_client_may_omit_origin_and_is_let_in_when_api_open_is_off(
    catalogue, settings, django_user_model
):
    settings.JAMJAR = {"api_open": False}
    user = await asyncio.to_thread(django_user_model.objects.create_user, "radio", password="x")
    token = await asyncio.to_thread(Token.objects.create, user=user)
    comm = WebsocketCommunicator(
        application, "/ws/identify/", headers=[(b"authorization", f"Token {token.key}".encode())]
    )
    assert (await comm.connect())[0]
    await start(comm)
    assert (await receive(comm))["type"] == "listening"
    await comm.disconnect()

    wrong = WebsocketCommunicator(application, "/ws/identify/", headers=[(b"authorization", b"Token nope")])
    assert (await wrong.connect())[0]
    await expect_error(wrong, "bad-token", 4401)

    no_origin = WebsocketCommunicator(application, "/ws/identify/")
    assert not (await no_origin.connect())[0]  # a browser-like client must name its Origin
