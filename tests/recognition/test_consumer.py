"""The /ws/identify/ websocket, through channels.testing.WebsocketCommunicator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from channels.testing import WebsocketCommunicator

from jamjar_site.asgi import application
from recognition.engine.audio import float_to_pcm16
from recognition.engine.resample import resample
from recognition.models import Recognition
from tests.audio_fixtures import synth_song

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

CLIENT_RATE_HZ = 16000
FRAME_S = 0.25


def communicator(client=("127.0.0.1", 50000)):
    comm = WebsocketCommunicator(application, "/ws/identify/", headers=[(b"origin", b"http://localhost")])
    comm.scope["client"] = client
    return comm


async def receive(comm, timeout=10):
    return json.loads(await comm.receive_from(timeout=timeout))


async def start(comm, **fields):
    await comm.send_to(
        text_data=json.dumps(
            {"type": "start", "sample_rate": CLIENT_RATE_HZ, "encoding": "pcm_s16le", "channels": 1, **fields}
        )
    )


async def started(client=("127.0.0.1", 50000)):
    """A connected communicator whose stream has started and been answered "listening"."""
    comm = communicator(client)
    assert (await comm.connect())[0]
    await start(comm)
    assert (await receive(comm))["type"] == "listening"
    return comm


def song_pcm(seed, *, start_s, seconds):
    samples = synth_song(seed, duration_s=24.0, sample_rate_hz=44100)
    clip = samples[int(start_s * 44100) : int((start_s + seconds) * 44100)]
    return float_to_pcm16(resample(clip, in_rate_hz=44100, out_rate_hz=CLIENT_RATE_HZ))


async def stream_until_answer(comm, pcm):
    """Send 250 ms frames until the server answers match or no_match; return (answer, progress msgs)."""
    frame_bytes = int(CLIENT_RATE_HZ * FRAME_S) * 2
    progress = []
    for at in range(0, len(pcm), frame_bytes):
        await comm.send_to(bytes_data=pcm[at : at + frame_bytes])
        while not await comm.receive_nothing(timeout=0.05):
            message = await receive(comm)
            if message["type"] in {"match", "no_match", "error"}:
                return message, progress
            progress.append(message)
    await comm.send_to(text_data=json.dumps({"type": "stop"}))
    while True:
        message = await receive(comm)
        if message["type"] != "progress":
            return message, progress


async def test_catalogued_clip_streamed_in_chunks_gives_match_with_song_and_offset(catalogue):
    comm = communicator()
    connected, _ = await comm.connect()
    assert connected
    await start(comm)
    assert (await receive(comm))["type"] == "listening"
    answer, _ = await stream_until_answer(comm, song_pcm(12, start_s=6.0, seconds=8.0))
    assert answer["type"] == "match", answer
    assert answer["match"]["song_id"] == catalogue[12].pk
    assert answer["match"]["offset_seconds"] == pytest.approx(6.0, abs=0.05)
    assert set(answer["match"]) >= {"song_id", "title", "artist", "offset_seconds", "confidence", "score"}
    assert answer["seconds_listened"] <= 3.0
    # The whole answer, as recognize --json gives it.
    assert answer["no_match_reason"] == "" and answer["matches"][0] == answer["match"]
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"
    assert await Recognition.objects.filter(source="browser", song_id=catalogue[12].pk).acount() == 1


async def test_unknown_music_gives_no_match_after_the_maximum_time(catalogue, settings):
    settings.JAMJAR = {"max_listen_s": 4.0}
    comm = await started()
    unknown = float_to_pcm16(
        resample(
            synth_song(98, duration_s=6.0, sample_rate_hz=16000), in_rate_hz=16000, out_rate_hz=CLIENT_RATE_HZ
        )
    )
    answer, progress = await stream_until_answer(comm, unknown)
    assert answer["type"] == "no_match"
    assert answer["seconds_listened"] == pytest.approx(4.0, abs=1e-3)
    assert answer["no_match_reason"] == answer["reason"]
    assert "aligned votes" in answer["reason"] or "no hash" in answer["reason"]
    assert progress and all(p["type"] == "progress" and "candidate" in p for p in progress)


async def test_stop_early_gives_the_answer_so_far(catalogue):
    comm = await started()
    await comm.send_to(bytes_data=song_pcm(13, start_s=3.0, seconds=0.5))
    await comm.send_to(text_data=json.dumps({"type": "stop"}))
    answer = await receive(comm)
    while answer["type"] == "progress":
        answer = await receive(comm)
    assert answer["type"] in {"match", "no_match"}
    assert answer["seconds_listened"] == pytest.approx(0.5, abs=0.05)


async def expect_error(comm, code, close_code):
    message = await receive(comm)
    assert message["type"] == "error" and message["code"] == code, message
    assert message["message"]
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": close_code}


@pytest.mark.parametrize(
    "start_fields, code, close_code",
    [
        ({"sample_rate": 4000}, "unsupported-sample-rate", 4415),
        ({"sample_rate": 96000}, "unsupported-sample-rate", 4415),
        ({"sample_rate": "fast"}, "bad-start", 4400),
        ({"encoding": "opus"}, "unsupported-encoding", 4415),
        ({"channels": 2}, "unsupported-channels", 4415),
    ],
)
async def test_unsupported_start_is_refused(catalogue, start_fields, code, close_code):
    comm = communicator()
    await comm.connect()
    await start(comm, **start_fields)
    await expect_error(comm, code, close_code)


async def test_audio_before_start_is_refused(catalogue):
    comm = communicator()
    await comm.connect()
    await comm.send_to(bytes_data=b"\x00\x01" * 100)
    await expect_error(comm, "not-started", 4409)


async def test_text_that_is_not_json_is_refused(catalogue):
    comm = await started()
    await comm.send_to(text_data="\x00\x01 definitely not json")
    await expect_error(comm, "bad-json", 4400)


async def test_unknown_control_message_is_refused(catalogue):
    comm = await started()
    await comm.send_to(text_data=json.dumps({"type": "audio", "data": "AAAA"}))
    await expect_error(comm, "unknown-type", 4400)


async def test_odd_length_frame_is_garbage(catalogue):
    comm = await started()
    await comm.send_to(bytes_data=b"\x01\x02\x03")
    await expect_error(comm, "bad-frame", 4400)


async def test_oversized_frame_is_refused(catalogue, settings):
    settings.JAMJAR = {"max_frame_bytes": 1000}
    comm = await started()
    await comm.send_to(bytes_data=b"\x00" * 1002)
    await expect_error(comm, "frame-too-large", 4413)


@pytest.mark.parametrize(
    "text",
    ["[" * 100000 + "]" * 100000, '{"type": "start", "x": ' + "[" * 50 + "]" * 50 + "}", " " * 5000 + "{}"],
    ids=["100000-deep", "50-deep-in-a-start", "over-4096-characters"],
)
async def test_deep_or_huge_json_is_bad_json_not_a_crash(catalogue, text):
    comm = await started()
    await comm.send_to(text_data=text)
    await expect_error(comm, "bad-json", 4400)


async def test_random_garbage_bytes_are_answered_not_crashed(catalogue):
    comm = await started()
    rng = np.random.default_rng(3)
    for _ in range(8):
        await comm.send_to(bytes_data=rng.integers(0, 256, 8000, dtype=np.uint8).tobytes())
    await comm.send_to(text_data=json.dumps({"type": "stop"}))
    answer = await receive(comm)
    while answer["type"] == "progress":
        answer = await receive(comm)
    assert answer["type"] == "no_match"


async def test_too_many_sessions_from_one_address(catalogue, settings):
    settings.JAMJAR = {"max_sessions_per_client": 2}
    open_ones = [communicator(("10.0.0.7", port)) for port in (1, 2)]
    for comm in open_ones:
        assert (await comm.connect())[0]
    third = communicator(("10.0.0.7", 3))
    await third.connect()
    await expect_error(third, "too-many-sessions", 4429)
    other_address = communicator(("10.0.0.8", 1))
    assert (await other_address.connect())[0]
    await open_ones[0].disconnect()
    fourth = communicator(("10.0.0.7", 4))
    await fourth.connect()
    await start(fourth)
    assert (await receive(fourth))["type"] == "listening"  # the dropped connection freed its place
    for comm in (open_ones[1], other_address, fourth):
        await comm.disconnect()


async def test_a_session_that_outlives_its_time_is_closed(catalogue, settings):
    settings.JAMJAR = {"session_timeout_s": 0.5}
    comm = await started()
    await expect_error(comm, "session-timeout", 4408)


async def test_brackets_inside_strings_do_not_count_as_nesting(catalogue):
    comm = communicator()
    assert (await comm.connect())[0]
    await start(comm, note='[[[[[[[[{{{{\\"[[[[')
    assert (await receive(comm))["type"] == "listening"
    await comm.disconnect()
