"""A file clip is looked up in two steps: the rest of its hashes only when the first leaves doubt."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import selectors
from recognition import services
from recognition.evaluation.degrade import tempo
from tests.audio_fixtures import synth_song
from tests.recognition.test_speed_search import CLIP_START_S, engine_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """(hashes asked for, song_id) of each catalogue lookup."""
    made = []
    real = selectors.fingerprint_rows

    def recording(hashes, **kwargs):
        made.append((len(hashes), kwargs.get("song_id")))
        return real(hashes, **kwargs)

    monkeypatch.setattr(selectors, "fingerprint_rows", recording)
    return made


def test_a_clear_clip_is_named_from_its_first_step_alone(catalogue, song_files, calls, settings):
    track = song_files[1]
    clip = engine_clip(track.seed)
    staged = services.recognize_samples(clip)
    first_step = [n for n, song_id in calls if song_id is None]
    settings.JAMJAR = {"staged_first_targets": 0}
    calls.clear()
    whole = services.recognize_samples(clip)
    everything = [n for n, song_id in calls if song_id is None]
    assert staged.match is not None and staged.match.rule_margin >= 2.0
    # one lookup of the catalogue (the whole clip's first step) where the unstaged session
    # has two (fed, flushed); the speed_ratio fit may read the named song's rows besides
    assert len(first_step) == 1 and len(everything) == 2
    # each anchor's 4 nearest targets of the query's 12
    assert 0 < first_step[0] < 0.5 * sum(everything)
    assert staged.query_hashes == whole.query_hashes == sum(everything)
    assert staged.match.song_id == whole.match.song_id == catalogue[track.seed].pk
    assert staged.match.offset_seconds == pytest.approx(CLIP_START_S, abs=0.05)
    assert staged.match.offset_seconds == whole.match.offset_seconds
    assert staged.match.speed_ratio == whole.match.speed_ratio == 1.0


def test_a_clip_in_doubt_looks_up_the_rest_and_gets_the_whole_answer(catalogue, song_files, calls, settings):
    unknown = synth_song(990, duration_s=6.0, sample_rate_hz=8000)[:40000]
    staged = services.recognize_samples(unknown)
    assert staged.match is None
    steps = [n for n, _ in calls]
    settings.JAMJAR = {"staged_first_targets": 0}
    calls.clear()
    whole = services.recognize_samples(unknown)
    assert whole.match is None
    # both steps, between them every hash once; and the same verdict as one lookup
    assert len(steps) >= 2 and sum(steps[:2]) == sum(n for n, _ in calls[:2]) == whole.query_hashes
    assert staged.reason == whole.reason
    assert [m.song_id for m in staged.matches] == [m.song_id for m in whole.matches]


def test_a_bar_no_first_step_clears_always_takes_the_second(catalogue, song_files, calls, settings):
    settings.JAMJAR = {"staged_margin": 1e9}
    track = song_files[2]
    result = services.recognize_samples(engine_clip(track.seed))
    assert result.match is not None and result.match.song_id == catalogue[track.seed].pk
    # the two steps; the fit takes the named song's rows from them
    assert [song_id for _, song_id in calls] == [None, None] and calls[0][0] < calls[1][0]


def test_a_staged_session_is_not_pushed():
    session = services.ListeningSession(staged=True, check_version=False)
    with pytest.raises(ValueError, match="not pushed"):
        session.push(np.zeros(8000, dtype=np.float32))


def tempo_clip(track, seconds):
    """seconds of the track with its tempo 4 % up (pitch kept): the unstretched rule names it."""
    return tempo(engine_clip(track.seed, seconds=seconds * 1.04), sample_rate_hz=8000, percent=4.0)


@pytest.mark.parametrize("seconds", [2.0, 5.0])
def test_a_clip_with_its_tempo_changed_gets_its_ratio_from_the_first_step(
    catalogue, song_files, calls, seconds
):
    track = song_files[0]
    result = services.recognize_samples(tempo_clip(track, seconds))
    assert result.match is not None and result.match.song_id == catalogue[track.seed].pk
    assert result.match.rule_margin >= 2.0
    assert calls == [(calls[0][0], None)] and calls[0][0] < result.query_hashes
    assert result.match.speed_ratio == pytest.approx(1.04, abs=0.005)


def test_a_first_step_too_thin_to_resolve_the_ratio_reads_the_songs_held_back_rows(
    catalogue, song_files, calls, settings
):
    settings.JAMJAR = {"staged_first_targets": 1}  # one target an anchor: few pairs for the fit
    track = song_files[0]
    result = services.recognize_samples(tempo_clip(track, 2.0))
    assert result.match is not None and result.match.song_id == catalogue[track.seed].pk
    song_id = catalogue[track.seed].pk
    # the first step, then the held-back hashes for the named song alone
    assert calls == [(calls[0][0], None), (result.query_hashes - calls[0][0], song_id)]
    assert result.match.speed_ratio == pytest.approx(1.04, abs=0.005)
