"""Verification: do a query's peaks fall where a candidate song has its own, more than chance would?

Voting counts hashes, pairs of peaks that must both survive noise; a short noisy clip keeps
too few pairs to clear the no-match rule, though many of its single peaks still sit where the
song has peaks.  Verification checks one (song, offset) hypothesis peak by peak: every song
peak in the stretch the query covers is a probe, a hit when the query has a peak within
+-dt frames and +-df bins.  Chance is taken from the query itself: a probe in bin b hits a
wrong song with the probability that a random frame of the query is occupied near bin b, so
a query dense in low bins does not look like a match to a song dense in low bins.

Song peaks are stored packed, two bytes a peak (see pack_peaks).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

# Packed peak layout, one little-endian uint16 a peak (most significant first):
#   | frames since the previous peak (7) | bin (9) |
# A gap of more than DELTA_MASK frames is written as skip entries: bin SKIP_BIN, delta
# DELTA_MASK, each advancing DELTA_MASK frames with no peak.
BIN_BITS = 9
DELTA_BITS = 7
BIN_MASK = (1 << BIN_BITS) - 1
DELTA_MASK = (1 << DELTA_BITS) - 1
SKIP_BIN = BIN_MASK


def pack_peaks(frames: np.ndarray, bins: np.ndarray) -> bytes:
    """Peaks as bytes, two a peak (more only across gaps of over DELTA_MASK frames).

    frames, bins: int64 [shape=(n,)], sorted by frame; bins < SKIP_BIN.
    """
    frames = np.asarray(frames, dtype=np.int64)
    bins = np.asarray(bins, dtype=np.int64)
    if len(frames) == 0:
        return b""
    if np.any((bins < 0) | (bins >= SKIP_BIN)) or frames[0] < 0 or np.any(np.diff(frames) < 0):
        raise ValueError("peaks must have bins in 0..510 and frames >= 0, sorted by frame")
    deltas = np.diff(frames, prepend=0)
    skips = np.maximum(deltas - 1, 0) // DELTA_MASK  # skip entries before each peak
    deltas = deltas - skips * DELTA_MASK
    entries = np.cumsum(skips + 1) - 1  # where each peak's own entry goes, after its skips
    packed = np.full(int(skips.sum()) + len(frames), (DELTA_MASK << BIN_BITS) | SKIP_BIN, dtype="<u2")
    packed[entries] = (deltas << BIN_BITS) | bins
    return packed.tobytes()


def unpack_peaks(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of pack_peaks: (frames, bins), int64 [shape=(n,)]."""
    packed = np.frombuffer(data, dtype="<u2").astype(np.int64)
    frames = np.cumsum(packed >> BIN_BITS)
    bins = packed & BIN_MASK
    real = bins != SKIP_BIN
    return frames[real], bins[real]


@dataclass(frozen=True)
class Verification:
    """How one (song, offset) hypothesis fares, peak by peak."""

    probes: int  # song peaks in the stretch the query covers
    hits: int  # of those, with a query peak near
    expected_hits: float  # by chance, for a song unrelated to the query
    z: float  # (hits - expected_hits) / standard deviation of chance hits


def occupancy(
    frames: np.ndarray, bins: np.ndarray, *, n_frames: int, n_bins: int, dt_frames: int, df_bins: int
) -> np.ndarray:
    """Where a query has a peak within +-dt_frames and +-df_bins: bool [shape=(n_frames, n_bins)].

    frames, bins: int64 [shape=(n,)], the query's peaks; peaks outside the grid are left out.
    Computed once per query, then checked against every candidate by verify().
    """
    exact = np.zeros((max(n_frames, 0), n_bins), dtype=bool)
    inside = (frames >= 0) & (frames < n_frames) & (bins >= 0) & (bins < n_bins)
    exact[frames[inside], bins[inside]] = True
    # Shifted ORs: a tenth of the time of scipy's maximum_filter for these small tolerances.
    along_time = exact.copy()
    for shift in range(1, dt_frames + 1):
        along_time[shift:] |= exact[:-shift]
        along_time[:-shift] |= exact[shift:]
    occupied = along_time.copy()
    for shift in range(1, df_bins + 1):
        occupied[:, shift:] |= along_time[:, :-shift]
        occupied[:, :-shift] |= along_time[:, shift:]
    return occupied


def verify(
    occupied: np.ndarray, song_frames: np.ndarray, song_bins: np.ndarray, *, offset_frames: int
) -> Verification:
    """Check the hypothesis that query frame t is song frame t + offset_frames.

    occupied: bool [shape=(n_query_frames, n_bins)] from occupancy(); song_*: int64
    [shape=(n,)], the song's peaks, sorted by frame.  A probe is a song peak whose frame
    falls in [offset_frames, offset_frames + n_query_frames); it hits when the query is
    occupied there.  Chance hits are a sum of independent Bernoulli draws, one per probe,
    each with the share of query frames occupied in the probe's bin.
    """
    n_query_frames, n_bins = occupied.shape
    lo, hi = np.searchsorted(song_frames, [offset_frames, offset_frames + n_query_frames])
    at, bins = song_frames[lo:hi] - offset_frames, song_bins[lo:hi]
    keep = (bins >= 0) & (bins < n_bins)
    at, bins = at[keep], bins[keep]
    if len(at) == 0 or not occupied.any():
        return Verification(0, 0, 0.0, 0.0)
    hits = int(occupied[at, bins].sum())
    chance = occupied[:, bins].mean(axis=0)
    expected = float(chance.sum())
    spread = float(np.sqrt(max((chance * (1.0 - chance)).sum(), 1e-9)))
    return Verification(len(at), hits, round(expected, 3), round((hits - expected) / spread, 3))


def spread(
    occupied: np.ndarray, song_frames: np.ndarray, song_bins: np.ndarray, *, offset_frames: int, parts: int
) -> list[Verification]:
    """verify() of each of `parts` equal stretches of the query, first to last.

    A chance alignment of an unrelated song is carried by one burst of coinciding peaks (a
    chord the two share), a true one by the whole clip: the no-match rule asks the hits to
    be above chance in more than one stretch.  A stretch where the song has no peak has no
    probes and says nothing.
    """
    n_query_frames = occupied.shape[0]
    bounds = [n_query_frames * k // parts for k in range(parts + 1)]
    return [
        verify(occupied[lo:hi], song_frames, song_bins, offset_frames=offset_frames + lo)
        for lo, hi in itertools.pairwise(bounds)
    ]
