"""Clips played faster or slower, or shifted in pitch, are named with their speed ratio."""

from __future__ import annotations

import pytest

from recognition import conf, output, services
from recognition.engine.resample import resample
from recognition.evaluation.degrade import speed
from tests.audio_fixtures import synth_song
from tests.conftest import SONG_RATE_HZ

pytestmark = pytest.mark.django_db

CLIP_START_S = 6.0
CLIP_SECONDS = 5.0


def engine_clip(seed, *, start_s=CLIP_START_S, seconds=CLIP_SECONDS):
    rate_hz = conf.fingerprint_params().sample_rate_hz
    song = resample(
        synth_song(seed, duration_s=24.0, sample_rate_hz=SONG_RATE_HZ),
        in_rate_hz=SONG_RATE_HZ,
        out_rate_hz=rate_hz,
    )
    return song[int(start_s * rate_hz) : int((start_s + seconds) * rate_hz)]


def test_a_clip_played_4_percent_fast_is_named_with_its_speed_ratio(catalogue, song_files):
    track = song_files[1]
    result = services.recognize_samples(speed(engine_clip(track.seed), percent=4.0))
    assert result.match is not None, result.reason
    assert result.match.song_id == catalogue[track.seed].pk
    assert result.match.speed_ratio == pytest.approx(1.04, abs=0.005)
    assert result.match.offset_seconds == pytest.approx(CLIP_START_S, abs=0.2)


def test_a_slowed_clip_is_named_with_a_ratio_below_one(catalogue, song_files):
    track = song_files[2]
    result = services.recognize_samples(speed(engine_clip(track.seed), percent=-3.0))
    assert result.match is not None, result.reason
    assert result.match.song_id == catalogue[track.seed].pk
    assert result.match.speed_ratio == pytest.approx(0.97, abs=0.005)


def test_an_unchanged_clip_reports_speed_ratio_one(catalogue, song_files):
    track = song_files[0]
    result = services.recognize_samples(engine_clip(track.seed))
    assert result.match is not None
    assert result.match.speed_ratio == 1.0
    assert output.answer(result)["match"]["speed_ratio"] == 1.0


def test_without_the_speed_search_a_sped_up_clip_is_not_found(catalogue, song_files, settings):
    settings.JAMJAR = {"speed_search_percent": 0}
    track = song_files[1]
    result = services.recognize_samples(speed(engine_clip(track.seed), percent=4.0))
    assert result.match is None


@pytest.mark.parametrize("percent", [-5.0, -3.0, 0.0, 3.0, 5.0])
def test_unknown_music_stays_unnamed_at_every_speed(catalogue, percent):
    # seed 99 is not in the catalogue (the fixture holds 11..14)
    result = services.recognize_samples(speed(engine_clip(99), percent=percent))
    assert result.match is None, result.match


def test_a_live_stream_played_fast_is_answered_by_the_speed_search(catalogue, song_files):
    track = song_files[3]
    clip = speed(engine_clip(track.seed, seconds=8.0), percent=3.0)
    rate_hz = conf.fingerprint_params().sample_rate_hz
    session = services.ListeningSession()
    answer = None
    for start in range(0, len(clip), rate_hz // 4):
        result = session.push(clip[start : start + rate_hz // 4])
        if result.confirmed:
            answer = result
            break
    assert answer is not None
    assert answer.match.song_id == catalogue[track.seed].pk
    assert answer.match.speed_ratio == pytest.approx(1.03, abs=0.005)
    assert session.seconds <= conf.service_settings().speed_search_after_s + 0.5


def test_the_speed_search_of_a_stream_votes_as_it_does_for_the_whole_clip(catalogue, song_files):
    track = song_files[2]
    clip = speed(engine_clip(track.seed, seconds=7.0), percent=-4.0)
    rate_hz = conf.fingerprint_params().sample_rate_hz
    whole = services.recognize_samples(clip)
    session = services.ListeningSession()
    for start in range(0, len(clip), rate_hz // 4):
        session.push(clip[start : start + rate_hz // 4])
    streamed = session.finish()
    assert whole.match is not None and whole.match.song_id == catalogue[track.seed].pk
    assert whole.match.speed_ratio == pytest.approx(0.96, abs=0.005)
    assert streamed.match is not None
    assert (streamed.match.song_id, streamed.match.confidence, streamed.match.offset_seconds) == (
        whole.match.song_id,
        whole.match.confidence,
        whole.match.offset_seconds,
    )
