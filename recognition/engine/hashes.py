"""Pairing peaks into 32-bit hashes.

Layout (most significant first), written down once here:

    | unused (8) | anchor bin F1 (9) | target bin F2 (9) | dt frames (6) |

The anchor's frame offset is stored beside the hash, not in it.
"""

from __future__ import annotations

import numpy as np

F1_BITS = 9
F2_BITS = 9
DT_BITS = 6

DT_SHIFT = 0
F2_SHIFT = DT_BITS
F1_SHIFT = DT_BITS + F2_BITS
DT_MASK = (1 << DT_BITS) - 1
F2_MASK = (1 << F2_BITS) - 1
F1_MASK = (1 << F1_BITS) - 1
HASH_BITS = F1_BITS + F2_BITS + DT_BITS


def pack(f1_bins: np.ndarray, f2_bins: np.ndarray, dt_frames: np.ndarray) -> np.ndarray:
    """Pack fields into hashes, int64 [shape=(n,)] (values < 2**HASH_BITS)."""
    f1 = np.asarray(f1_bins, dtype=np.int64)
    f2 = np.asarray(f2_bins, dtype=np.int64)
    dt = np.asarray(dt_frames, dtype=np.int64)
    if np.any((f1 < 0) | (f1 > F1_MASK) | (f2 < 0) | (f2 > F2_MASK) | (dt < 0) | (dt > DT_MASK)):
        raise ValueError("hash field out of range")
    return (f1 << F1_SHIFT) | (f2 << F2_SHIFT) | (dt << DT_SHIFT)


def unpack(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of pack: (f1_bins, f2_bins, dt_frames)."""
    h = np.asarray(hashes, dtype=np.int64)
    return (h >> F1_SHIFT) & F1_MASK, (h >> F2_SHIFT) & F2_MASK, (h >> DT_SHIFT) & DT_MASK


def pair_peaks(
    frames: np.ndarray,
    bins: np.ndarray,
    anchor_mask: np.ndarray,
    *,
    dt_min_frames: int,
    dt_max_frames: int,
    df_max_bins: int,
    fan_out: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair each anchor with the first fan_out peaks of its target zone.

    frames, bins: int64 [shape=(n,)], sorted by frame then bin.  anchor_mask: bool
    [shape=(n,)] marks which peaks act as anchors (every peak may be a target).  The zone
    is dt_min..dt_max frames later and at most df_max_bins away; targets are taken nearest
    in time first, then lowest bin.
    Returns (hashes int64, anchor_frames int64), both [shape=(n_hashes,)].
    """
    anchors = np.flatnonzero(anchor_mask)
    if len(anchors) == 0 or len(frames) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    lo = np.searchsorted(frames, frames[anchors] + dt_min_frames, side="left")
    hi = np.searchsorted(frames, frames[anchors] + dt_max_frames, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Expand every (anchor, candidate target) pair without a Python loop.
    pair_anchor = np.repeat(anchors, counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    pair_target = starts + np.arange(total)
    df = bins[pair_target] - bins[pair_anchor]
    keep = np.abs(df) <= df_max_bins
    pair_anchor, pair_target = pair_anchor[keep], pair_target[keep]
    if len(pair_anchor) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    first = np.searchsorted(pair_anchor, pair_anchor, side="left")
    rank = np.arange(len(pair_anchor)) - first
    chosen = rank < fan_out
    pair_anchor, pair_target = pair_anchor[chosen], pair_target[chosen]
    hashes = pack(bins[pair_anchor], bins[pair_target], frames[pair_target] - frames[pair_anchor])
    return hashes, frames[pair_anchor]
