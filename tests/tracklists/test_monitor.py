"""manage.py monitor on a stream served from 127.0.0.1 that drops; plays in the API."""

from __future__ import annotations

import io
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from recognition.engine.audio import float_to_pcm16
from tests.audio_fixtures import synth_song
from tests.conftest import SONG_SECONDS
from tracklists.models import Play, Station

RATE_HZ = 8000
#: the first connection dies after this much of song 11 (mid-song, mid-chunk)
DROP_AFTER_S = 17.3


def wav_stream_header() -> bytes:
    """A WAV header for a stream of unknown length (the data size field at its maximum)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as header:
        header.setnchannels(1)
        header.setsampwidth(2)
        header.setframerate(RATE_HZ)
    data = bytearray(out.getvalue())
    data[4:8] = (0xFFFFFFFF - 8).to_bytes(4, "little")
    data[40:44] = (0xFFFFFFFF - 44).to_bytes(4, "little")
    return bytes(data)


class FlakyRadio:
    """Serves song 11 and drops the connection part-way; the next connection plays song 12.
    Each connection starts with a WAV header, as an internet radio starts each listener."""

    def __init__(self) -> None:
        song_11 = synth_song(11, duration_s=SONG_SECONDS, sample_rate_hz=RATE_HZ)
        song_12 = synth_song(12, duration_s=SONG_SECONDS, sample_rate_hz=RATE_HZ)
        self.programme = [
            float_to_pcm16(song_11[: int(DROP_AFTER_S * RATE_HZ)]),
            float_to_pcm16(np.concatenate([song_12, np.zeros(RATE_HZ, np.float32)])),
        ]
        self.connections = 0
        radio = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                index = radio.connections
                radio.connections += 1
                if index >= len(radio.programme):
                    self.send_error(503, "off the air")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.end_headers()
                self.wfile.write(wav_stream_header() + radio.programme[index])
                self.wfile.flush()
                self.close_connection = True  # the drop: no more bytes, the socket closes

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/live"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def radio():
    with FlakyRadio() as served:
        yield served


def test_a_stream_that_drops_is_resumed_and_both_plays_are_recorded(catalogue, radio, settings):
    settings.JAMJAR_TRACKLIST = {"reconnect_first_s": 0.05, "reconnect_max_s": 0.2}
    out, err = StringIO(), StringIO()
    heard_s = DROP_AFTER_S + SONG_SECONDS + 1.0
    call_command(
        "monitor", radio.url, "--station", "Radio Loopback", "--seconds", str(heard_s), stdout=out, stderr=err
    )

    assert radio.connections == 2
    assert "the stream ended; reconnecting in 0.05 s" in err.getvalue()
    assert "2 play(s) recorded, 1 reconnection(s)" in out.getvalue()
    station = Station.objects.get(name="Radio Loopback")
    assert station.url == radio.url
    plays = list(Play.objects.filter(station=station).order_by("started_at"))
    assert [play.song_id for play in plays] == [catalogue[11].pk, catalogue[12].pk]
    first, second = plays
    assert (first.ended_at - first.started_at).total_seconds() == pytest.approx(DROP_AFTER_S, abs=2.5)
    assert first.song_start_s == pytest.approx(0.0, abs=1.0) and second.song_start_s == pytest.approx(
        0.0, abs=1.0
    )
    assert second.started_at >= first.ended_at
    assert first.speed_ratio == second.speed_ratio == 1.0


def test_a_stream_that_never_answers_is_retried_with_growing_waits(db, settings):
    settings.JAMJAR_TRACKLIST = {"reconnect_first_s": 0.05, "reconnect_max_s": 0.2}
    from tracklists import monitor

    stop = threading.Event()
    lines = []

    def say(line):
        lines.append(line)
        if len(lines) == 4:
            stop.set()

    stats = monitor.follow("http://127.0.0.1:9/nothing", station="Silent", stop=stop, say=say)
    assert stats.plays == 0 and stats.reconnects == 4
    waits = [line.rsplit("reconnecting in ", 1)[1] for line in lines]
    assert waits == ["0.05 s", "0.1 s", "0.2 s", "0.2 s"]
    assert "Connection refused" in lines[0]


@pytest.mark.django_db
def test_plays_are_listed_by_station_and_time(catalogue):
    from datetime import UTC, datetime

    one, two = Station.objects.create(name="One"), Station.objects.create(name="Two")
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    for station, song, hour in ((one, 11, 12), (one, 12, 13), (two, 13, 12)):
        Play.objects.create(
            station=station,
            song=catalogue[song],
            started_at=at.replace(hour=hour),
            ended_at=at.replace(hour=hour, minute=3),
        )
    client = APIClient()
    assert client.get("/api/plays/").status_code == 401
    client.force_authenticate(User.objects.create_user("curator", is_staff=True))
    answer = client.get("/api/plays/", {"station": "One", "since": "2026-05-01T12:30:00Z"}).json()
    assert answer["count"] == 1
    (play,) = answer["results"]
    assert play["station"] == "One" and play["song"]["song_id"] == catalogue[12].pk
    assert play["started_at"] == "2026-05-01T13:00:00Z"
    assert client.get("/api/plays/", {"station": "One"}).json()["count"] == 2
    assert client.get("/api/plays/").json()["count"] == 3
    bad = client.get("/api/plays/", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()
