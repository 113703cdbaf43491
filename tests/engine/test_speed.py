"""Stretch factors, stretching, and the time ratio fitted from matched hashes."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.speed import fit_time_ratio, stretch_factors


def test_stretch_factors_come_nearest_first_and_stop_at_the_limit():
    factors = stretch_factors(max_percent=5, step_percent=1)
    assert factors[:4] == pytest.approx([1.01, 0.99, 1.02, 0.98])
    assert len(factors) == 10
    assert max(factors) == pytest.approx(1.05) and min(factors) == pytest.approx(0.95)
    assert 1.0 not in factors


def test_no_factors_when_the_search_is_off():
    assert stretch_factors(max_percent=0, step_percent=1) == []


def test_fit_recovers_ratio_and_offset_among_chance_hits():
    rng = np.random.default_rng(3)
    query = rng.uniform(0, 150, 80)
    song = 1.04 * query + 900 + rng.integers(-1, 2, 80)  # frames jitter by one
    chance_q = rng.uniform(0, 150, 200)
    chance_s = rng.uniform(0, 5000, 200)
    fit = fit_time_ratio(np.r_[query, chance_q], np.r_[song, chance_s])
    assert fit is not None
    assert fit.ratio == pytest.approx(1.04, abs=0.003)
    assert fit.offset_frames == pytest.approx(900, abs=2)
    assert fit.inliers >= 75
    assert 0 < fit.resolution < 0.015  # 80 hashes over 150 frames pin the slope to about 1 %


def test_fit_of_a_short_clip_cannot_resolve_a_small_change():
    query = np.arange(0.0, 30.0, 3.0)  # 1 s of anchors
    song = query + 500 + np.array([0, 1, -1, 0, 1, 0, -1, 1, 0, -1])
    fit = fit_time_ratio(query, song)
    assert fit is not None
    assert fit.resolution > 0.02


def test_fit_needs_three_pairs():
    assert fit_time_ratio(np.array([1.0, 2.0]), np.array([5.0, 6.0])) is None
