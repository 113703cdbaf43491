"""Hash layout: packing round-trips, range checks, and which peaks pair_peaks pairs."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine import hashes
from recognition.engine.hashes import DT_MASK, F1_MASK, F2_MASK, HASH_BITS, pack, pair_peaks, unpack

ZONE = {"dt_min_frames": 1, "dt_max_frames": 63, "df_max_bins": 96, "fan_out": 10}


def pairs(frames, bins, anchor_mask=None, **zone):
    """pair_peaks on plain lists; returns sorted (anchor_frame, f1, f2, dt) tuples."""
    frames = np.asarray(frames, dtype=np.int64)
    bins = np.asarray(bins, dtype=np.int64)
    mask = np.ones(len(frames), dtype=bool) if anchor_mask is None else np.asarray(anchor_mask, dtype=bool)
    packed, anchor_frames = pair_peaks(frames, bins, mask, **{**ZONE, **zone})
    f1, f2, dt = unpack(packed)
    return sorted(zip(anchor_frames.tolist(), f1.tolist(), f2.tolist(), dt.tolist(), strict=False))


def brute_force_pairs(frames, bins, anchor_mask, *, dt_min_frames, dt_max_frames, df_max_bins, fan_out):
    """The documented rule, one peak at a time: the first fan_out targets by (frame, bin)."""
    found = []
    for a in np.flatnonzero(anchor_mask):
        zone = [
            t
            for t in range(len(frames))
            if dt_min_frames <= frames[t] - frames[a] <= dt_max_frames
            and abs(bins[t] - bins[a]) <= df_max_bins
        ]
        zone.sort(key=lambda t: (frames[t], bins[t]))
        found += [
            (int(frames[a]), int(bins[a]), int(bins[t]), int(frames[t] - frames[a])) for t in zone[:fan_out]
        ]
    return sorted(found)


def test_layout_fields_are_disjoint_and_fill_hash_bits():
    fields = [
        F1_MASK << hashes.F1_SHIFT,
        F2_MASK << hashes.F2_SHIFT,
        DT_MASK << hashes.DT_SHIFT,
    ]
    assert fields[0] & fields[1] == 0 and fields[0] & fields[2] == 0 and fields[1] & fields[2] == 0
    assert fields[0] | fields[1] | fields[2] == (1 << HASH_BITS) - 1
    assert HASH_BITS <= 32


def test_pack_gives_the_documented_bit_positions():
    assert pack([0], [0], [0]).tolist() == [0]
    assert pack([1], [0], [0]).tolist() == [1 << (hashes.F2_BITS + hashes.DT_BITS)]
    assert pack([0], [1], [0]).tolist() == [1 << hashes.DT_BITS]
    assert pack([0], [0], [1]).tolist() == [1]
    assert pack([F1_MASK], [F2_MASK], [DT_MASK]).tolist() == [(1 << HASH_BITS) - 1]


def test_pack_unpack_round_trip_over_random_fields_and_extremes():
    rng = np.random.default_rng(0)
    f1 = np.concatenate([[0, F1_MASK, 0, F1_MASK], rng.integers(0, F1_MASK + 1, 5000)])
    f2 = np.concatenate([[0, F2_MASK, F2_MASK, 0], rng.integers(0, F2_MASK + 1, 5000)])
    dt = np.concatenate([[0, DT_MASK, 0, DT_MASK], rng.integers(0, DT_MASK + 1, 5000)])
    packed = pack(f1, f2, dt)
    assert packed.dtype == np.int64
    assert packed.min() >= 0 and packed.max() < 1 << HASH_BITS
    back = unpack(packed)
    for original, unpacked in zip((f1, f2, dt), back, strict=False):
        np.testing.assert_array_equal(original, unpacked)


def test_distinct_fields_give_distinct_hashes():
    f1, f2, dt = np.meshgrid(np.arange(0, 512, 37), np.arange(0, 512, 41), np.arange(0, 64, 5), indexing="ij")
    packed = pack(f1.ravel(), f2.ravel(), dt.ravel())
    assert len(np.unique(packed)) == f1.size


@pytest.mark.parametrize(
    ("f1", "f2", "dt"),
    [(-1, 0, 0), (F1_MASK + 1, 0, 0), (0, -1, 0), (0, F2_MASK + 1, 0), (0, 0, -1), (0, 0, DT_MASK + 1)],
)
def test_pack_rejects_a_field_out_of_range(f1, f2, dt):
    with pytest.raises(ValueError, match="out of range"):
        pack([5, f1], [5, f2], [5, dt])


def test_pair_peaks_includes_both_ends_of_the_dt_range():
    frames, bins = [0, 1, 5, 9], [100, 100, 100, 100]
    anchor = [True, False, False, False]
    assert pairs(frames, bins, anchor, dt_min_frames=1, dt_max_frames=5) == [
        (0, 100, 100, 1),
        (0, 100, 100, 5),
    ]
    assert pairs(frames, bins, anchor, dt_min_frames=2, dt_max_frames=8) == [(0, 100, 100, 5)]


def test_pair_peaks_never_pairs_peaks_of_the_same_frame():
    assert pairs([3, 3, 3], [10, 20, 30]) == []


def test_pair_peaks_respects_the_frequency_distance_limit():
    frames = [0, 1, 1, 1, 1, 1]
    bins = [100, 4, 5, 195, 196, 100]
    anchor = [True, False, False, False, False, False]
    found = pairs(frames, bins, anchor, df_max_bins=95)
    assert found == [(0, 100, 5, 1), (0, 100, 100, 1), (0, 100, 195, 1)]


def test_pair_peaks_takes_the_nearest_targets_in_time_then_lowest_bin():
    frames = [0, 3, 3, 1, 2, 4]
    bins = [50, 70, 60, 90, 80, 40]
    order = np.lexsort((bins, frames))  # pair_peaks wants (frame, bin) order
    frames, bins = np.asarray(frames)[order], np.asarray(bins)[order]
    anchor = frames == 0
    found = pairs(frames, bins, anchor, fan_out=3)
    assert found == [(0, 50, 60, 3), (0, 50, 80, 2), (0, 50, 90, 1)]


def test_pair_peaks_uses_only_masked_peaks_as_anchors_but_all_as_targets():
    frames, bins = [0, 2, 4], [100, 110, 120]
    found = pairs(frames, bins, [False, True, False])
    assert found == [(2, 110, 120, 2)]
    assert pairs(frames, bins, [False, False, False]) == []


def test_pair_peaks_returns_the_anchor_frame_beside_each_hash():
    packed, anchor_frames = pair_peaks(
        np.array([7, 9], dtype=np.int64), np.array([30, 31], dtype=np.int64), np.array([True, True]), **ZONE
    )
    assert anchor_frames.tolist() == [7]
    assert [v.tolist() for v in unpack(packed)] == [[30], [31], [2]]


def test_pair_peaks_on_no_peaks_gives_empty_int64_arrays():
    empty = np.zeros(0, dtype=np.int64)
    packed, anchor_frames = pair_peaks(empty, empty, np.zeros(0, dtype=bool), **ZONE)
    assert packed.dtype == np.int64 and anchor_frames.dtype == np.int64
    assert len(packed) == len(anchor_frames) == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pair_peaks_matches_the_rule_applied_one_peak_at_a_time(seed):
    rng = np.random.default_rng(seed)
    n = 300
    frames = np.sort(rng.integers(0, 200, n))
    bins = rng.integers(0, 512, n)
    order = np.lexsort((bins, frames))
    frames, bins = frames[order], bins[order]
    anchor_mask = rng.random(n) < 0.7
    zone = {"dt_min_frames": 2, "dt_max_frames": 20, "df_max_bins": 60, "fan_out": 3}
    expected = brute_force_pairs(frames, bins, anchor_mask, **zone)
    assert len(expected) > 100
    assert pairs(frames, bins, anchor_mask, **zone) == expected
