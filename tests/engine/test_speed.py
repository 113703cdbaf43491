"""Stretch factors, stretching the query's peaks, and the time ratio fitted from matched hashes."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine import convert
from recognition.engine.matching import OffsetTally, offset_votes
from recognition.engine.params import FingerprintParams
from recognition.engine.speed import StretchedPeaks, fit_time_ratio, stretch_factors, stretch_peaks
from recognition.engine.stream import Hashes, StreamingFingerprinter, fingerprint, hash_peaks
from recognition.evaluation.degrade import speed
from tests.audio_fixtures import synth_song
from tests.engine.test_stream import assert_same_hashes

PARAMS = FingerprintParams()


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


def test_stretching_moves_peaks_to_frame_times_factor_and_bin_over_factor():
    frames, bins = stretch_peaks(
        np.array([0.0, 10.0, 100.0]), np.array([100.0, 50.0, 103.0]), factor=1.03, params=PARAMS
    )
    # 10 * 1.03 = 10.3 -> 10, 50 / 1.03 = 48.5 -> 49; 100 * 1.03 = 103, 103 / 1.03 = 100
    assert frames.tolist() == [0, 10, 103]
    assert bins.tolist() == [97, 49, 100]


def test_stretching_drops_bins_that_leave_the_band_and_merges_peaks_that_meet():
    bin_lo, bin_hi = convert.band_bins(PARAMS)
    frames, bins = stretch_peaks(
        np.array([5.0, 5.0, 6.0, 7.0, 7.0]),
        np.array([float(bin_lo), float(bin_hi), 300.0, 300.0, 300.4]),
        factor=0.95,
        params=PARAMS,
    )
    # bin_lo / 0.95 stays inside, bin_hi / 0.95 leaves the band; frames 6 and 7 both land on 7
    # (5.7 and 6.65), and bin 300.4 rounds to the same 316 as 300
    assert bins.min() >= bin_lo and bins.max() <= bin_hi
    assert list(zip(frames.tolist(), bins.tolist(), strict=True)) == [
        (5, round(bin_lo / 0.95)),
        (6, 316),
        (7, 316),
    ]


def query_peaks_in_chunks(samples, sizes, factor, *, params=PARAMS):
    """The query fingerprinter fed in chunks (cycled sizes), the stretch fed its peaks after each."""
    fingerprinter = StreamingFingerprinter(params, query=True)
    stretched = StretchedPeaks(factor, params)
    parts, start, i = [], 0, 0
    while start < len(samples):
        fingerprinter.push(samples[start : start + sizes[i % len(sizes)]])
        parts.append(stretched.push(fingerprinter.peaks(), frames_done=fingerprinter.frames_done))
        start, i = start + sizes[i % len(sizes)], i + 1
    fingerprinter.flush()
    parts.append(stretched.push(fingerprinter.peaks(), frames_done=fingerprinter.frames_done, final=True))
    return Hashes.concat(parts), fingerprinter


@pytest.mark.parametrize("factor", [0.95, 0.99, 1.04])
def test_stretched_hashes_do_not_depend_on_how_the_stream_was_cut(factor):
    samples = synth_song(31, duration_s=9.0)
    whole, _ = query_peaks_in_chunks(samples, [len(samples)], factor)
    chunked, _ = query_peaks_in_chunks(samples, [1999, 250, 4096, 7], factor)
    assert len(whole) > 500
    assert_same_hashes(chunked, whole)


def test_stretched_hashes_are_the_engines_hashes_of_the_stretched_peaks():
    samples = synth_song(32, duration_s=6.0)
    hashes, fingerprinter = query_peaks_in_chunks(samples, [2000], 1.03)
    peaks = fingerprinter.peaks()
    frames, bins = stretch_peaks(
        peaks.frames + peaks.frame_offsets, peaks.bins + peaks.bin_offsets, factor=1.03, params=PARAMS
    )
    expected = hash_peaks(frames, bins, np.ones(len(frames), dtype=bool), PARAMS, query=True)
    assert len(expected) > 300
    assert_same_hashes(hashes, expected)


def test_stretched_by_one_the_peaks_give_the_query_hashes_themselves():
    samples = synth_song(33, duration_s=6.0)
    hashes, _ = query_peaks_in_chunks(samples, [1500], 1.0)
    assert_same_hashes(hashes, fingerprint(samples, PARAMS, query=True))


def aligned_votes(query: Hashes, catalogue: Hashes) -> int:
    tally = OffsetTally()
    songs = np.zeros(len(catalogue), dtype=np.int64)
    tally.add(
        offset_votes(query.hashes, query.offsets_frames, catalogue.hashes, songs, catalogue.offsets_frames)
    )
    return tally.candidates(top_n=1, tolerance_frames=1)[0].aligned_votes


def test_a_clip_played_4_percent_fast_matches_again_once_its_peaks_are_stretched_by_1_04():
    song = synth_song(34, duration_s=20.0)
    catalogue = fingerprint(song, PARAMS)
    clip = speed(song[5 * 8000 : 11 * 8000], percent=4.0)
    unstretched = fingerprint(clip, PARAMS, query=True)
    stretched, _ = query_peaks_in_chunks(clip, [len(clip)], 1.04)
    restored = aligned_votes(stretched, catalogue)
    assert restored >= 60
    assert restored >= 5 * aligned_votes(unstretched, catalogue)


def test_fit_near_an_alignment_ignores_a_stronger_line_elsewhere():
    rng = np.random.default_rng(4)
    query = rng.uniform(0, 150, 40)
    named = 1.02 * query + 900 + rng.integers(-1, 2, 40)
    repeat_q = rng.uniform(0, 150, 90)  # the same music elsewhere, heard better
    repeat = 1.0 * repeat_q + 3000
    q, s = np.r_[query, repeat_q], np.r_[named, repeat]
    assert fit_time_ratio(q, s).offset_frames == pytest.approx(3000, abs=2)
    fit = fit_time_ratio(q, s, near=(1.0, 901.0))
    assert fit.ratio == pytest.approx(1.02, abs=0.006)  # 40 pairs jittered by a frame
    assert fit.offset_frames == pytest.approx(900, abs=2)
    assert fit.inliers >= 35
