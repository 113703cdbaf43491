"""A file clip is looked up in two steps: the rest of its hashes only when the first leaves doubt."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import selectors
from recognition import services
from tests.audio_fixtures import synth_song
from tests.recognition.test_speed_search import CLIP_START_S, engine_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def looked_up(monkeypatch):
    """The number of hashes each catalogue lookup asked for."""
    counts = []
    real = selectors.fingerprint_rows

    def counting(hashes, **kwargs):
        counts.append(len(hashes))
        return real(hashes, **kwargs)

    monkeypatch.setattr(selectors, "fingerprint_rows", counting)
    return counts


def test_a_clear_clip_is_named_from_its_first_step_alone(catalogue, song_files, looked_up, settings):
    track = song_files[1]
    clip = engine_clip(track.seed)
    staged = services.recognize_samples(clip)
    first_step = list(looked_up)
    settings.JAMJAR = {"staged_first_targets": 0}
    looked_up.clear()
    whole = services.recognize_samples(clip)
    assert staged.match is not None and staged.match.rule_margin >= 2.0
    # one lookup (the whole clip's first step) where the unstaged session has two (fed, flushed)
    assert len(first_step) == 1 and len(looked_up) == 2
    # each anchor's 4 nearest targets of the query's 12
    assert 0 < first_step[0] < 0.5 * sum(looked_up)
    assert staged.query_hashes == whole.query_hashes == sum(looked_up)
    assert staged.match.song_id == whole.match.song_id == catalogue[track.seed].pk
    assert staged.match.offset_seconds == pytest.approx(CLIP_START_S, abs=0.05)
    assert staged.match.offset_seconds == whole.match.offset_seconds
    assert staged.match.speed_ratio == whole.match.speed_ratio == 1.0


def test_a_clip_in_doubt_looks_up_the_rest_and_gets_the_whole_answer(
    catalogue, song_files, looked_up, settings
):
    unknown = synth_song(990, duration_s=6.0, sample_rate_hz=8000)[:40000]
    staged = services.recognize_samples(unknown)
    assert staged.match is None
    steps = list(looked_up)
    settings.JAMJAR = {"staged_first_targets": 0}
    looked_up.clear()
    whole = services.recognize_samples(unknown)
    assert whole.match is None
    # both steps, between them every hash once; and the same verdict as one lookup
    assert len(steps) >= 2 and sum(steps[:2]) == sum(looked_up[:2])
    assert staged.reason == whole.reason
    assert [m.song_id for m in staged.matches] == [m.song_id for m in whole.matches]


def test_a_bar_no_first_step_clears_always_takes_the_second(catalogue, song_files, looked_up, settings):
    settings.JAMJAR = {"staged_margin": 1e9}
    track = song_files[2]
    result = services.recognize_samples(engine_clip(track.seed))
    assert result.match is not None and result.match.song_id == catalogue[track.seed].pk
    assert len(looked_up) == 2 and looked_up[0] < looked_up[1]


def test_a_staged_session_is_not_pushed():
    session = services.ListeningSession(staged=True, check_version=False)
    with pytest.raises(ValueError, match="not pushed"):
        session.push(np.zeros(8000, dtype=np.float32))
