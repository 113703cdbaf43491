"""Clips cut, degraded and matched: the truth each outcome is judged against."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recognition import services
from recognition.evaluation import clips, summary


def test_repeats_at_finds_the_same_audio_again_and_only_there():
    rate = clips.ANALYSIS_RATE_HZ
    rng = np.random.default_rng(0)
    loop = rng.standard_normal(rate * 3).astype(np.float32)
    audio = np.concatenate([loop, loop, rng.standard_normal(rate * 3).astype(np.float32)])
    clip = audio[int(0.5 * rate) : int(2.5 * rate)]
    assert clips.repeats_at(audio, clip, offset_s=3.5)  # the loop's second pass
    assert clips.repeats_at(audio, clip, offset_s=3.6)  # within the 0.2 s slack
    assert not clips.repeats_at(audio, clip, offset_s=6.5)  # other audio


@pytest.mark.django_db
def test_a_right_answer_counts_its_speed_ratio_within_half_a_percent(catalogue, song_files, monkeypatch):
    track = song_files[0]
    song_id = catalogue[track.seed].pk
    reported = {"ratio": 1.0}

    real_recognize = services.recognize_samples

    def with_ratio(samples, **options):
        result = real_recognize(samples, **options)
        if result.match is not None:
            result.match = replace(result.match, speed_ratio=reported["ratio"])
        return result

    monkeypatch.setattr(services, "recognize_samples", with_ratio)
    spec = clips.ClipSpec(0, track.path, song_id, 2.0, 3.0, "tempo:+5")
    for ratio, ok in ((1.05, True), (1.054, True), (1.06, False), (1.0, False)):
        reported["ratio"] = ratio
        [outcome] = clips.run_clips([spec], seed=1)
        assert outcome.correct and outcome.expected_speed_ratio == pytest.approx(1.05)
        assert outcome.predicted_speed_ratio == ratio and outcome.speed_ratio_ok is ok, ratio
        assert abs(outcome.predicted_offset_s - 2.0) <= clips.OFFSET_TOLERANCE_S  # the song's own time
    totals = summary.summarise([outcome, replace(outcome, index=1, predicted_speed_ratio=1.05)])
    assert totals["cells"][0]["speed_ratio_ok"] == 0.5 and totals["overall"]["speed_ratio_ok"] == 0.5
