"""Spectral peak picking: local maxima above a floor, then a per-block density cap."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter


def local_maxima(
    spec_db: np.ndarray, *, freq_radius_bins: int, time_radius_frames: int, floor_db: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points that equal the maximum of their neighbourhood and exceed floor_db.

    spec_db: float32 [shape=(n_frames, n_bins)], dB.  Values outside the array count as -inf,
    so a caller that pads with -inf rows gets the same answer as on the whole signal.
    Returns (frames, bins), int64 [shape=(n_peaks,)], sorted by frame then bin.
    """
    if spec_db.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    size = (2 * time_radius_frames + 1, 2 * freq_radius_bins + 1)
    neighbourhood_max = maximum_filter(spec_db, size=size, mode="constant", cval=-np.inf)
    is_peak = (spec_db == neighbourhood_max) & (spec_db > floor_db)
    frames, bins = np.nonzero(is_peak)
    return frames.astype(np.int64), bins.astype(np.int64)


def cap_density(
    frames: np.ndarray, bins: np.ndarray, strength_db: np.ndarray, *, block_frames: int, per_block: int
) -> np.ndarray:
    """Indices of the strongest per_block peaks in each block of block_frames frames.

    frames, bins: int64 [shape=(n,)]; strength_db: float32 [shape=(n,)].
    Blocks are on an absolute grid (block = frame // block_frames), so the result does not
    depend on how a stream was chunked.  Returns sorted int64 indices into the inputs.
    """
    if len(frames) == 0:
        return np.zeros(0, dtype=np.int64)
    block = frames // block_frames
    # Strongest first inside each block; ties broken by frame then bin for determinism.
    order = np.lexsort((bins, frames, -strength_db, block))
    sorted_block = block[order]
    first_of_block = np.searchsorted(sorted_block, sorted_block, side="left")
    rank = np.arange(len(order)) - first_of_block
    return np.sort(order[rank < per_block])


def vertex_offsets(
    spec_db: np.ndarray, frames: np.ndarray, bins: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where between the frames and between the bins each peak's maximum lies.

    spec_db: float32 [shape=(n_frames, n_bins)], dB; frames, bins: int64 [shape=(n,)], points
    of spec_db.  A parabola through each point and its two neighbours along each axis gives
    the vertex.  Returns (frame_offsets, bin_offsets), float32 [shape=(n,)], each in
    -0.5..0.5 (0 where a neighbour is outside spec_db or the parabola is not a maximum).
    """
    n_frames, n_bins = spec_db.shape

    def along(before: np.ndarray, centre: np.ndarray, after: np.ndarray, inside: np.ndarray) -> np.ndarray:
        curvature = before - 2 * centre + after
        ok = inside & (curvature < 0)
        offsets = np.zeros(len(centre), dtype=np.float32)
        offsets[ok] = 0.5 * (before[ok] - after[ok]) / curvature[ok]
        return np.clip(offsets, -0.5, 0.5)

    centre = spec_db[frames, bins]
    in_time = (frames > 0) & (frames < n_frames - 1)
    in_freq = (bins > 0) & (bins < n_bins - 1)
    frame_offsets = along(
        spec_db[np.maximum(frames - 1, 0), bins],
        centre,
        spec_db[np.minimum(frames + 1, n_frames - 1), bins],
        in_time,
    )
    bin_offsets = along(
        spec_db[frames, np.maximum(bins - 1, 0)],
        centre,
        spec_db[frames, np.minimum(bins + 1, n_bins - 1)],
        in_freq,
    )
    return frame_offsets, bin_offsets
