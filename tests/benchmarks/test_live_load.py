"""live_load --replay: one stream through LiveSession, answered as the websocket answers it."""

from __future__ import annotations

import pytest

from benchmarks.live_load import CLIENT_RATE_HZ, replay
from recognition.engine.audio import decode_file, float_to_pcm16

pytestmark = pytest.mark.django_db


def test_a_replayed_stream_of_a_catalogued_song_is_named_with_the_audio_it_took(catalogue, song_files):
    track = song_files[0]
    audio = decode_file(track.path, sample_rate_hz=CLIENT_RATE_HZ)
    pcm = float_to_pcm16(audio[5 * CLIENT_RATE_HZ : 15 * CLIENT_RATE_HZ])
    answer = replay(pcm)
    assert answer["type"] == "match"
    assert answer["match"]["song_id"] == catalogue[track.seed].pk
    assert answer["sent_s"] == pytest.approx(answer["seconds_listened"], abs=0.26)
    assert answer["sent_s"] < 10.0  # it stopped at the answer, as a client does
