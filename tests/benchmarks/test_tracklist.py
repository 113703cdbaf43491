"""The track list benchmark's scoring: each boundary's signed error, beside the summary figures."""

from __future__ import annotations

import pytest

from benchmarks.tracklist import Part, score


def part(song_id, start_s, end_s, *, speed_percent=0.0):
    return Part("x.ogg", song_id, start_s, end_s, 6.0, 6.0, 0.0, speed_percent)


def segment(song_id, start_s, end_s):
    song = {"song_id": song_id} if song_id is not None else None
    return {"song": song, "start_s": start_s, "end_s": end_s, "speed_ratio": 1.0}


def test_each_boundary_gets_its_signed_error_and_its_songs():
    parts = [part(1, 0, 100), part(None, 100, 160), part(2, 160, 300, speed_percent=2.5)]
    segments = [segment(1, 0, 101.5), segment(None, 101.5, 157.0), segment(2, 157.0, 300)]
    scores = score(parts, segments)
    rows = scores["boundaries"]
    assert [(r["before"], r["after"]) for r in rows] == [(1, None), (None, 2)]
    assert [r["error_s"] for r in rows] == [pytest.approx(1.5), pytest.approx(-3.0)]
    assert rows[1]["after_speed_percent"] == 2.5
    assert scores["boundary_error_median_s"] == pytest.approx(2.25)
