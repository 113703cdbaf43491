"""Verification of a (song, offset) hypothesis peak by peak, and the packed peak layout."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.params import FingerprintParams
from recognition.engine.stream import StreamingFingerprinter, fingerprint
from recognition.engine.verify import (
    BIN_BITS,
    DELTA_MASK,
    SKIP_BIN,
    Verification,
    occupancy,
    pack_peaks,
    spread,
    unpack_peaks,
    verify,
)
from tests.audio_fixtures import synth_song, white_noise

N_BINS = 513


def peaks_of(samples, params, *, query):
    fingerprinter = StreamingFingerprinter(params, query=query)
    fingerprinter.push(samples)
    fingerprinter.flush()
    return fingerprinter.peaks(), fingerprinter


def test_pack_round_trips_peaks_with_long_gaps_and_shared_frames():
    frames = np.array([0, 0, 5, 5 + DELTA_MASK, 400, 400 + 3 * DELTA_MASK + 1, 100_000], dtype=np.int64)
    bins = np.array([3, 10, 500, 7, 0, SKIP_BIN - 1, 42], dtype=np.int64)
    data = pack_peaks(frames, bins)
    assert isinstance(data, bytes)
    got_frames, got_bins = unpack_peaks(data)
    assert got_frames.dtype == np.int64 and got_bins.dtype == np.int64
    assert got_frames.tolist() == frames.tolist()
    assert got_bins.tolist() == bins.tolist()


def test_pack_costs_two_bytes_a_peak_when_peaks_are_dense():
    frames = np.repeat(np.arange(1000), 3)
    bins = np.tile([20, 200, 400], 1000)
    assert len(pack_peaks(frames, bins)) == 2 * len(frames)
    assert unpack_peaks(b"")[0].shape == (0,)
    assert pack_peaks(np.zeros(0, np.int64), np.zeros(0, np.int64)) == b""


@pytest.mark.parametrize(
    ("frames", "bins"),
    [([0, 1], [1 << BIN_BITS, 3]), ([0, 1], [SKIP_BIN, 3]), ([5, 4], [1, 1]), ([-1, 4], [1, 1])],
)
def test_pack_refuses_peaks_outside_the_layout(frames, bins):
    with pytest.raises(ValueError, match="peaks must have"):
        pack_peaks(np.array(frames), np.array(bins))


def test_fingerprinter_peaks_are_the_capped_peaks_whatever_the_chunks():
    params = FingerprintParams()
    song = synth_song(3, duration_s=12.0)
    whole, _ = peaks_of(song, params, query=False)
    chunked = StreamingFingerprinter(params)
    for start in range(0, len(song), 1999):
        chunked.push(song[start : start + 1999])
    chunked.flush()
    pieces = chunked.peaks()
    assert whole.frames.dtype == np.int64 and whole.bins.dtype == np.int64
    assert whole.frames.shape == whole.bins.shape
    assert np.array_equal(whole.frames, pieces.frames) and np.array_equal(whole.bins, pieces.bins)
    assert np.all(np.diff(whole.frames) >= 0)
    # about peaks_per_s of them, and every hash's anchor is one of them
    assert 0.5 * params.peaks_per_s * 12 < len(whole) <= 1.1 * params.peaks_per_s * 12
    anchors = set(fingerprint(song, params).offsets_frames.tolist())
    assert anchors <= set(whole.frames.tolist())


def _clip_case(seed_song, seed_noise, *, start_s=20.0, length_s=3.0, snr_db=0.0):
    params = FingerprintParams()
    song = synth_song(seed_song, duration_s=40.0)
    start = int(start_s * params.sample_rate_hz)
    clip = song[start : start + int(length_s * params.sample_rate_hz)].copy()
    noise = white_noise(seed_noise, length_s, params.sample_rate_hz)[: len(clip)]
    scale = np.sqrt(np.mean(clip**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return params, song, (clip + scale * noise).astype(np.float32)


def test_the_right_song_at_the_right_offset_verifies_and_a_wrong_one_does_not():
    params, song, clip = _clip_case(1, 2)
    song_peaks, _ = peaks_of(song, params, query=False)
    other_peaks, _ = peaks_of(synth_song(7, duration_s=40.0), params, query=False)
    query_peaks, fingerprinter = peaks_of(clip, params, query=True)
    n_frames = fingerprinter.frames_done
    offset = int(round(20.0 * params.sample_rate_hz / params.hop))

    occupied = occupancy(
        query_peaks.frames, query_peaks.bins, n_frames=n_frames, n_bins=N_BINS, dt_frames=1, df_bins=0
    )
    assert occupied.shape == (n_frames, N_BINS) and occupied.dtype == bool

    def check(peaks, offset_frames):
        return verify(occupied, peaks.frames, peaks.bins, offset_frames=offset_frames)

    right = check(song_peaks, offset)
    assert isinstance(right, Verification)
    assert right.probes > 40
    assert right.hits > 0.6 * right.probes
    assert right.z > 8
    for wrong in (
        check(other_peaks, offset),
        check(song_peaks, offset + 200),
        check(song_peaks, offset - 37),
    ):
        assert wrong.probes > 40
        assert wrong.hits < right.hits / 2
        assert wrong.z < 4
        assert wrong.expected_hits > 0


def test_occupancy_marks_the_tolerance_around_each_peak_and_drops_peaks_outside():
    frames = np.array([0, 5, 9, 12], dtype=np.int64)
    bins = np.array([4, 7, 512, 3], dtype=np.int64)
    occupied = occupancy(frames, bins, n_frames=10, n_bins=N_BINS, dt_frames=1, df_bins=1)
    assert occupied.sum() == 2 * 3 + 3 * 3 + 2 * 2  # the first and last are clipped by the edges
    assert occupied[4:7, 6:9].all() and occupied[0:2, 3:6].all() and occupied[8:10, 511:513].all()
    exact = occupancy(frames, bins, n_frames=10, n_bins=N_BINS, dt_frames=0, df_bins=0)
    assert exact.sum() == 3


def test_verify_without_probes_or_query_peaks_scores_nothing():
    frames = np.array([10, 20], dtype=np.int64)
    bins = np.array([30, 40], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    nothing = Verification(0, 0, 0.0, 0.0)

    def grid(f, b, n_frames):
        return occupancy(f, b, n_frames=n_frames, n_bins=N_BINS, dt_frames=1, df_bins=0)

    assert verify(grid(empty, empty, 50), frames, bins, offset_frames=0) == nothing
    # the song has no peak in the stretch the query covers
    assert verify(grid(frames, bins, 50), frames, bins, offset_frames=500) == nothing
    assert verify(grid(frames, bins, 0), frames, bins, offset_frames=0) == nothing


def random_peaks(rng, *, n_frames, n_bins, per_frame):
    frames = np.repeat(np.arange(n_frames), per_frame)
    bins = rng.integers(5, n_bins - 5, size=len(frames))
    return frames, bins


def test_spread_finds_hits_bunched_in_one_third_and_hits_spread_over_all():
    rng = np.random.default_rng(3)
    n_frames, n_bins = 90, 200
    song_frames, song_bins = random_peaks(rng, n_frames=400, n_bins=n_bins, per_frame=2)
    offset = 150
    at = (song_frames >= offset) & (song_frames < offset + n_frames)
    # the query holds the song's own peaks over the whole clip ...
    query_frames, query_bins = song_frames[at] - offset, song_bins[at]
    whole = occupancy(query_frames, query_bins, n_frames=n_frames, n_bins=n_bins, dt_frames=0, df_bins=0)
    parts = spread(whole, song_frames, song_bins, offset_frames=offset, parts=3)
    assert [part.probes for part in parts] == [60, 60, 60]
    assert all(part.hits == 60 and part.z > 5 for part in parts)
    # ... or only in its middle third, the rest its own unrelated peaks
    other_frames, other_bins = random_peaks(rng, n_frames=n_frames, n_bins=n_bins, per_frame=2)
    middle = (query_frames >= 30) & (query_frames < 60)
    outside = (other_frames < 30) | (other_frames >= 60)
    bunched = occupancy(
        np.r_[query_frames[middle], other_frames[outside]],
        np.r_[query_bins[middle], other_bins[outside]],
        n_frames=n_frames,
        n_bins=n_bins,
        dt_frames=0,
        df_bins=0,
    )
    first, second, third = spread(bunched, song_frames, song_bins, offset_frames=offset, parts=3)
    assert second.hits == 60 and second.z > 5
    assert first.z < 1 and third.z < 1
    # the whole clip verifies all the same: only the parts tell the two apart
    assert verify(bunched, song_frames, song_bins, offset_frames=offset).z > 5


def test_spread_of_a_stretch_where_the_song_is_silent_has_no_probes():
    song_frames, song_bins = np.arange(100, 130), np.full(30, 40)
    occupied = occupancy(song_frames - 100, song_bins, n_frames=90, n_bins=64, dt_frames=1, df_bins=0)
    parts = spread(occupied, song_frames, song_bins, offset_frames=100, parts=3)
    assert [part.probes for part in parts] == [30, 0, 0]
    assert parts[1] == parts[2] == Verification(0, 0, 0.0, 0.0)
