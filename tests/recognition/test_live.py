"""The stream recogniser behind the websocket and `listen`, and LiveSession's messages over it."""

from __future__ import annotations

import numpy as np
import pytest

from recognition import conf, services
from recognition.engine.audio import float_to_pcm16, pcm16_to_float
from recognition.engine.resample import resample
from recognition.live import LiveSession
from recognition.streaming import StreamRecogniser
from tests.audio_fixtures import synth_song
from tests.conftest import SONG_RATE_HZ

pytestmark = pytest.mark.django_db

CLIENT_RATE_HZ = 16000
FRAME = CLIENT_RATE_HZ // 4  # 250 ms


def client_audio(seed, *, start_s=0.0, seconds):
    """A song (or, for a seed outside 11..14, music the catalogue lacks) as 16 kHz PCM samples."""
    song = resample(
        synth_song(seed, duration_s=24.0, sample_rate_hz=SONG_RATE_HZ),
        in_rate_hz=SONG_RATE_HZ,
        out_rate_hz=CLIENT_RATE_HZ,
    )
    # Through 16-bit PCM, as the websocket receives it.
    return pcm16_to_float(
        float_to_pcm16(song[int(start_s * CLIENT_RATE_HZ) :][: int(seconds * CLIENT_RATE_HZ)])
    )


def test_max_time_answer_is_the_file_answer_of_exactly_max_seconds(catalogue, settings):
    # Unknown music is never confirmed, so the stream ends on the maximum time, in the middle
    # of a frame; what the resampler still holds must be heard, as when the client stops.
    settings.JAMJAR = {"max_listen_s": 4.1}
    audio = client_audio(98, seconds=6.0)
    session = LiveSession(sample_rate_hz=CLIENT_RATE_HZ, service=conf.service_settings())
    for start in range(0, len(audio), FRAME):
        step = session.feed(float_to_pcm16(audio[start : start + FRAME]))
        if step.done:
            break
    assert step.done and step.messages[0]["type"] == "no_match"
    engine_rate_hz = conf.fingerprint_params().sample_rate_hz
    heard = resample(
        audio[: int(4.1 * CLIENT_RATE_HZ)], in_rate_hz=CLIENT_RATE_HZ, out_rate_hz=engine_rate_hz
    )
    whole = services.recognize_samples(heard)
    assert step.result.seconds == pytest.approx(4.1, abs=1 / engine_rate_hz)
    assert step.result.query_hashes == whole.query_hashes
    assert [m.confidence for m in step.result.matches] == [m.confidence for m in whole.matches]


def test_stopping_at_the_maximum_or_by_stop_gives_the_same_answer(catalogue, settings):
    settings.JAMJAR = {"max_listen_s": 3.0}
    audio = client_audio(97, seconds=3.0)
    by_time = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ)
    by_stop = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ, max_s=10.0)
    for start in range(0, len(audio), 1000):
        heard = by_time.push(audio[start : start + 1000])
        by_stop.push(audio[start : start + 1000])
    assert heard.done and not by_stop.done
    stopped = by_stop.finish()
    assert heard.result.seconds == stopped.seconds == pytest.approx(3.0)
    assert heard.result.query_hashes == stopped.query_hashes
    assert heard.result.reason == stopped.reason != ""


def test_a_catalogued_stream_stops_once_confirmed_and_at_least_min_listen_s(catalogue):
    audio = client_audio(12, start_s=6.0, seconds=10.0)
    recogniser = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ)
    for start in range(0, len(audio), FRAME):
        heard = recogniser.push(audio[start : start + FRAME])
        if heard.done:
            break
    assert heard.done and heard.result.confirmed
    assert heard.result.match.song_id == catalogue[12].pk
    assert heard.result.match.offset_seconds == pytest.approx(6.0, abs=0.05)
    assert conf.service_settings().min_listen_s <= recogniser.seconds < 5.0
    # Over: more audio changes nothing, and finish() gives the same answer.
    assert recogniser.push(audio[:FRAME]).result is heard.result
    assert recogniser.finish() is heard.result


def test_without_stop_on_match_it_listens_to_the_maximum(catalogue):
    # listen --full: a match does not end the stream before max_s.
    audio = client_audio(12, start_s=6.0, seconds=6.0)
    recogniser = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ, max_s=5.0, stop_on_match=False)
    done_at = None
    for start in range(0, len(audio), FRAME):
        if recogniser.push(audio[start : start + FRAME]).done:
            done_at = start + FRAME
            break
    assert done_at == 5 * CLIENT_RATE_HZ
    answer = recogniser.finish()
    assert answer.match.song_id == catalogue[12].pk
    assert answer.seconds == pytest.approx(5.0)


def test_the_final_messages_carry_the_answer_with_why_there_was_no_match(catalogue, settings):
    settings.JAMJAR = {"max_listen_s": 3.0}
    session = LiveSession(sample_rate_hz=CLIENT_RATE_HZ, service=conf.service_settings())
    session.feed(float_to_pcm16(client_audio(97, seconds=1.0)))
    message = session.stop().messages[0]
    assert message["type"] == "no_match" and message["match"] is None
    assert message["no_match_reason"] == message["reason"]
    assert "aligned votes" in message["reason"] or "no hash" in message["reason"]
    assert message["seconds_listened"] == pytest.approx(1.0, abs=0.01)
    assert set(message) >= {"matches", "query_hashes", "timings", "match_time_s", "seconds"}


def test_no_audio_at_all_is_a_no_match_with_a_reason(catalogue):
    session = LiveSession(sample_rate_hz=CLIENT_RATE_HZ, service=conf.service_settings())
    message = session.stop().messages[0]
    assert message["type"] == "no_match"
    assert message["no_match_reason"] == "no hash of the query is in the catalogue"
    assert np.isclose(message["seconds_listened"], 0.0)


def test_frames_are_gathered_into_chunks_of_live_chunk_s_before_matching(catalogue, settings):
    settings.JAMJAR = {"live_chunk_s": 1.0}
    audio = client_audio(12, start_s=6.0, seconds=3.0)
    recogniser = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ)
    answered = [
        recogniser.push(audio[start : start + FRAME]).result is not None
        for start in range(0, 8 * FRAME, FRAME)
    ]
    # 250 ms frames, matched a second at a time: the fourth and the eighth frame are matched.
    assert answered == [False, False, False, True, False, False, False, True]
    assert recogniser.session.seconds == pytest.approx(2.0, abs=0.1)


def seconds_to_answer(audio):
    recogniser = StreamRecogniser(sample_rate_hz=CLIENT_RATE_HZ)
    for start in range(0, len(audio), FRAME):
        heard = recogniser.push(audio[start : start + FRAME])
        if heard.done:
            return recogniser.seconds, heard.result
    return None, recogniser.finish()


@pytest.mark.parametrize("seed", [12, 13])
def test_judging_the_unfinished_tail_answers_sooner_with_the_same_song_and_offset(catalogue, settings, seed):
    audio = client_audio(seed, start_s=6.0, seconds=10.0)
    settings.JAMJAR = {"live_judge_tail": False, "min_listen_s": 0.5}
    final_only_s, final_only = seconds_to_answer(audio)
    settings.JAMJAR = {"min_listen_s": 0.5}
    with_tail_s, with_tail = seconds_to_answer(audio)
    for result in (final_only, with_tail):
        assert result.confirmed and result.match.song_id == catalogue[seed].pk
        assert result.match.offset_seconds == pytest.approx(6.0, abs=0.05)
    # an anchor's hashes are final only once its whole target zone (1.28 s) has arrived
    assert final_only_s - with_tail_s > 0.99


def test_unknown_music_stays_unnamed_when_the_tail_is_judged(catalogue):
    seconds, result = seconds_to_answer(client_audio(98, seconds=10.0))
    assert seconds is None and result.match is None


def test_an_answer_clear_of_the_bar_is_given_on_the_chunk_that_first_accepts_it(catalogue, settings):
    audio = client_audio(12, start_s=6.0, seconds=10.0)
    settings.JAMJAR = {"min_listen_s": 0.5, "live_confirm_margin": 1000.0}
    twice_s, twice = seconds_to_answer(audio)
    settings.JAMJAR = {"min_listen_s": 0.5}
    once_s, once = seconds_to_answer(audio)
    for result in (twice, once):
        assert result.confirmed and result.match.song_id == catalogue[12].pk
        assert result.match.offset_seconds == pytest.approx(6.0, abs=0.05)
    assert once.match.rule_margin >= conf.service_settings().live_confirm_margin
    # without the margin, the same answer waits for the next chunk to agree
    assert twice_s - once_s == pytest.approx(conf.service_settings().live_chunk_s, abs=0.01)
