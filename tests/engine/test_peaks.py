"""Peak picking: local maxima above the floor, and the per-block density cap."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.peaks import cap_density, local_maxima, vertex_offsets
from recognition.engine.spectrogram import spectrogram_db
from tests.audio_fixtures import white_noise

RADII = {"freq_radius_bins": 10, "time_radius_frames": 6}


def brute_force_maxima(spec, *, freq_radius_bins, time_radius_frames, floor_db):
    found = []
    n_frames, n_bins = spec.shape
    for f in range(n_frames):
        for b in range(n_bins):
            hood = spec[
                max(0, f - time_radius_frames) : f + time_radius_frames + 1,
                max(0, b - freq_radius_bins) : b + freq_radius_bins + 1,
            ]
            if spec[f, b] == hood.max() and spec[f, b] > floor_db:
                found.append((f, b))
    return found


def test_planted_peak_in_quiet_noise_is_the_only_peak():
    rng = np.random.default_rng(0)
    spec = rng.normal(-80.0, 3.0, size=(60, 200)).astype(np.float32)
    spec[31, 120] = -20.0
    frames, bins = local_maxima(spec, floor_db=-65.0, **RADII)
    assert frames.tolist() == [31]
    assert bins.tolist() == [120]


def test_tone_burst_in_noise_is_found_at_its_frame_and_bin():
    rate_hz, window, hop = 8000, 1024, 128
    samples = white_noise(3, 2.0, rate_hz) * 0.05
    tone_bin = 150  # 1171.875 Hz, a bin centre
    start, length = 6000, 2048
    t = np.arange(length) / rate_hz
    samples[start : start + length] += (
        0.5 * np.sin(2 * np.pi * tone_bin * rate_hz / window * t) * np.hanning(length)
    )
    spec = spectrogram_db(samples, window=window, hop=hop)
    frames, bins = local_maxima(spec, floor_db=-65.0, **RADII)
    strongest = np.argmax(spec[frames, bins])
    # The burst's centre (sample 7024) is the centre of the window of frame (7024 - 512) / 128 = 50.9.
    assert bins[strongest] == tone_bin
    assert abs(frames[strongest] - 51) <= 1


def test_no_peak_at_or_below_the_floor():
    rng = np.random.default_rng(1)
    spec = rng.normal(-60.0, 10.0, size=(80, 120)).astype(np.float32)
    frames, bins = local_maxima(spec, floor_db=-55.0, freq_radius_bins=3, time_radius_frames=2)
    assert len(frames) > 20
    assert np.all(spec[frames, bins] > -55.0)
    quiet = np.full((20, 30), -70.0, dtype=np.float32)
    assert len(local_maxima(quiet, floor_db=-70.0, **RADII)[0]) == 0


@pytest.mark.parametrize("seed", [2, 3])
def test_local_maxima_matches_a_neighbourhood_scan_including_ties_and_edges(seed):
    rng = np.random.default_rng(seed)
    # Integer levels make plateaus: every point equal to its neighbourhood maximum counts.
    spec = rng.integers(-80, -40, size=(40, 50)).astype(np.float32)
    frames, bins = local_maxima(spec, floor_db=-70.0, freq_radius_bins=2, time_radius_frames=3)
    expected = brute_force_maxima(spec, freq_radius_bins=2, time_radius_frames=3, floor_db=-70.0)
    assert list(zip(frames.tolist(), bins.tolist(), strict=False)) == expected
    assert frames.dtype == np.int64 and bins.dtype == np.int64


def test_padding_with_minus_infinity_rows_only_shifts_the_peaks():
    rng = np.random.default_rng(4)
    spec = rng.normal(-50.0, 8.0, size=(30, 64)).astype(np.float32)
    padded = np.concatenate([np.full((5, 64), -np.inf, dtype=np.float32), spec])
    frames, bins = local_maxima(spec, floor_db=-65.0, **RADII)
    padded_frames, padded_bins = local_maxima(padded, floor_db=-65.0, **RADII)
    np.testing.assert_array_equal(padded_frames - 5, frames)
    np.testing.assert_array_equal(padded_bins, bins)


def test_local_maxima_of_an_empty_spectrogram_is_empty():
    frames, bins = local_maxima(np.zeros((0, 10), dtype=np.float32), floor_db=-65.0, **RADII)
    assert len(frames) == len(bins) == 0


def test_cap_density_keeps_the_strongest_per_block():
    #                 block 0 (frames 0-3)      block 1 (frames 4-7)   block 2
    frames = np.array([0, 1, 1, 2, 3, 4, 5, 6, 7, 8], dtype=np.int64)
    bins = np.array([10, 20, 30, 40, 50, 10, 20, 30, 40, 10], dtype=np.int64)
    strength = np.array([-30, -10, -50, -20, -40, -5, -60, -7, -6, -90], dtype=np.float32)
    kept = cap_density(frames, bins, strength, block_frames=4, per_block=2)
    # block 0: -10 (index 1), -20 (index 3); block 1: -5 (5), -6 (8); block 2: its only peak (9)
    assert kept.tolist() == [1, 3, 5, 8, 9]
    assert kept.dtype == np.int64


def test_cap_density_breaks_ties_by_earlier_frame_then_lower_bin():
    frames = np.array([0, 1, 1, 2], dtype=np.int64)
    bins = np.array([90, 40, 20, 10], dtype=np.int64)
    strength = np.full(4, -10.0, dtype=np.float32)
    assert cap_density(frames, bins, strength, block_frames=4, per_block=2).tolist() == [0, 2]


def test_cap_density_blocks_sit_on_an_absolute_frame_grid():
    # Frames 3 and 4 are in different blocks of 4 even when the input starts at frame 3.
    frames = np.array([3, 4, 5], dtype=np.int64)
    bins = np.array([10, 10, 10], dtype=np.int64)
    strength = np.array([-30.0, -20.0, -10.0], dtype=np.float32)
    assert cap_density(frames, bins, strength, block_frames=4, per_block=1).tolist() == [0, 2]


def test_cap_density_in_two_calls_split_at_a_block_edge_equals_one_call():
    rng = np.random.default_rng(5)
    frames = np.sort(rng.integers(0, 160, 400))
    bins = rng.integers(0, 400, 400)
    strength = rng.normal(-40, 10, 400).astype(np.float32)
    whole = cap_density(frames, bins, strength, block_frames=16, per_block=3)
    split = np.searchsorted(frames, 80)
    first = cap_density(frames[:split], bins[:split], strength[:split], block_frames=16, per_block=3)
    second = cap_density(frames[split:], bins[split:], strength[split:], block_frames=16, per_block=3) + split
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)
    assert np.bincount(frames[whole] // 16).max() == 3


def test_cap_density_keeps_everything_when_blocks_are_sparse():
    frames = np.array([0, 20, 40], dtype=np.int64)
    kept = cap_density(frames, frames, np.zeros(3, dtype=np.float32), block_frames=16, per_block=2)
    assert kept.tolist() == [0, 1, 2]
    empty = np.zeros(0, dtype=np.int64)
    assert len(cap_density(empty, empty, np.zeros(0, dtype=np.float32), block_frames=16, per_block=2)) == 0


@pytest.mark.parametrize("bin_position", [40.0, 40.3, 59.8, 77.5])
def test_vertex_offsets_find_a_tone_between_two_bins(bin_position):
    rate_hz, window = 8000, 1024
    t = np.arange(rate_hz) / rate_hz
    tone = 0.5 * np.sin(2 * np.pi * bin_position * rate_hz / window * t).astype(np.float32)
    spec = spectrogram_db(tone, window=window, hop=256)
    frames = np.array([10])
    bins = np.array([int(np.argmax(spec[10]))])
    _, bin_offsets = vertex_offsets(spec, frames, bins)
    assert bins[0] + bin_offsets[0] == pytest.approx(bin_position, abs=0.1)


@pytest.mark.parametrize("centre_frames", [10.0, 10.25, 12.7])
def test_vertex_offsets_find_a_burst_between_two_frames(centre_frames):
    rate_hz, window, hop = 8000, 1024, 256
    t = np.arange(rate_hz)
    centre_sample = centre_frames * hop + window / 2  # frame k is centred on k * hop + window / 2
    burst = np.exp(-0.5 * ((t - centre_sample) / 300.0) ** 2) * np.sin(2 * np.pi * 1000 * t / rate_hz)
    spec = spectrogram_db(burst.astype(np.float32), window=window, hop=hop)
    bins = np.array([128])  # 1000 Hz
    frames = np.array([int(np.argmax(spec[:, 128]))])
    frame_offsets, _ = vertex_offsets(spec, frames, bins)
    assert frames[0] + frame_offsets[0] == pytest.approx(centre_frames, abs=0.1)


def test_vertex_offsets_are_zero_at_the_edges_and_never_beyond_half():
    spec = np.random.default_rng(4).normal(size=(20, 30)).astype(np.float32)
    frames, bins = np.meshgrid(np.arange(20), np.arange(30), indexing="ij")
    frame_offsets, bin_offsets = vertex_offsets(spec, frames.ravel(), bins.ravel())
    assert np.all(np.abs(frame_offsets) <= 0.5) and np.all(np.abs(bin_offsets) <= 0.5)
    assert np.all(frame_offsets.reshape(20, 30)[[0, -1], :] == 0)
    assert np.all(bin_offsets.reshape(20, 30)[:, [0, -1]] == 0)
