"""Changed speed, tempo and pitch: hypotheses to try, and the time ratio of a match.

The hashes hold exact frequency bins, so a clip played 1 % fast (every frequency 1 % higher)
already loses most of them.  A query is therefore also tried stretched by a grid of
factors: stretched by the right one, a clip that was sped up has its pitch and tempo back.
The clip is not resampled and fingerprinted again for each factor: its peaks are moved to
where the stretched clip has them (frame t to t * factor, bin b to b / factor) and paired
into hashes by the engine's one pairing path (stream.hash_peaks).  A pitch shift is undone
the same way (its tempo is then off by the factor, which the +-1 frame vote tolerance and
the 32 ms frames absorb up to about 5 %); a tempo change alone needs no stretch at all.  Which of these it was is read afterwards from the matched hashes:
fit_time_ratio finds how fast the clip's time runs against the song's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import convert
from .params import FingerprintParams
from .stream import Hashes, PeakPairer, Peaks

#: frames and bins of one peak packed into one sortable int64 (bins < 2**_BIN_BITS)
_BIN_BITS = 16


def stretch_factors(*, max_percent: float, step_percent: float) -> list[float]:
    """The factors to try besides 1.0, nearest first: 1 +- k * step up to +- max_percent.

    A factor is how many times longer the stretched clip is: 1.03 undoes a clip played 3 %
    fast.  Returns [] when max_percent or step_percent is 0.
    """
    if max_percent <= 0 or step_percent <= 0:
        return []
    steps = int(np.floor(max_percent / step_percent + 1e-9))
    factors = []
    for k in range(1, steps + 1):
        factors += [1.0 + k * step_percent / 100.0, 1.0 - k * step_percent / 100.0]
    return [round(f, 6) for f in factors if f > 0]


def _round(values: np.ndarray) -> np.ndarray:
    """Round half up: monotone, so peaks keep their order and a frame boundary maps to one."""
    return np.floor(values + 0.5).astype(np.int64)


def stretch_peaks(
    frames: np.ndarray, bins: np.ndarray, *, factor: float, params: FingerprintParams
) -> tuple[np.ndarray, np.ndarray]:
    """Where a clip stretched by factor has these peaks: frame t * factor, bin b / factor, rounded.

    frames, bins: float64 [shape=(n,)], the peaks' positions, best with their vertex offsets
    (Peaks.frame_offsets, bin_offsets): a whole bin rounded twice, once by the spectrogram
    and once here, lands in the wrong bin for a quarter of the peaks, and a hash needs both
    of its bins right.  Bins that leave the engine's band are dropped (the catalogue has no
    peak there, and the hash has no room above it), two peaks that land on one point are
    one.  Returns (frames, bins), int64, sorted by frame then bin.
    """
    return _unpack(_stretched_keys(frames, bins, factor=factor, params=params))


def _stretched_keys(
    frames: np.ndarray, bins: np.ndarray, *, factor: float, params: FingerprintParams
) -> np.ndarray:
    bin_lo, bin_hi = convert.band_bins(params)
    new_frames = _round(np.asarray(frames, dtype=np.float64) * factor)
    new_bins = _round(np.asarray(bins, dtype=np.float64) / factor)
    inside = (new_bins >= bin_lo) & (new_bins <= bin_hi)
    return np.unique((new_frames[inside] << _BIN_BITS) | new_bins[inside])


def _unpack(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return keys >> _BIN_BITS, keys & ((1 << _BIN_BITS) - 1)


class StretchedPeaks:
    """The query's peaks as a clip stretched by factor has them, paired into query hashes as
    they become final: the same hashes however the stream was cut into pushes."""

    def __init__(self, factor: float, params: FingerprintParams) -> None:
        self.factor = factor
        self.params = params
        self._pairer = PeakPairer(params, query=True)
        self._held = np.zeros(0, dtype=np.int64)  # stretched peaks (keys) at frames not yet final
        self._frames_in = 0  # the query's frames below this have been taken

    def push(self, peaks: Peaks, *, frames_done: int, final: bool = False) -> Hashes:
        """Take the query's peaks of frames below frames_done not taken before (peaks: every
        peak of the query so far, as StreamingFingerprinter.peaks() gives them); final: no
        peak will follow.  Returns the new hashes, at the stretched clip's frames."""
        lo, hi = np.searchsorted(peaks.frames, [self._frames_in, frames_done])
        self._frames_in = max(self._frames_in, frames_done)
        keys = _stretched_keys(
            peaks.frames[lo:hi] + peaks.frame_offsets[lo:hi],
            peaks.bins[lo:hi] + peaks.bin_offsets[lo:hi],
            factor=self.factor,
            params=self.params,
        )
        if len(self._held):
            keys = np.unique(np.concatenate([self._held, keys]))
        frames, bins = _unpack(keys)
        # Every later peak (at frames_done - 0.5 or later, with its offset) lands here or later.
        done = int(np.floor((frames_done - 0.5) * self.factor + 0.5))
        if final:
            done = max(done, int(frames[-1]) + 1 if len(frames) else 0)
        ready = frames < done
        self._held = keys[~ready]
        return self._pairer.push(frames[ready], bins[ready], frames_done=done, final=final)


@dataclass(frozen=True)
class TimeFit:
    """A line song_frame = ratio * query_frame + offset_frames through one song's matches."""

    ratio: float
    offset_frames: float
    inliers: int
    #: the smallest change of ratio these inliers can tell apart: five standard errors of
    #: the fitted slope, as peak times jitter with heavier tails than a normal law's (a 1 s
    #: clip cannot tell 1.00 from 1.03; a 10 s clip can)
    resolution: float


def fit_time_ratio(
    query_frames: np.ndarray,
    song_frames: np.ndarray,
    *,
    max_change: float = 0.08,
    step: float = 0.0025,
    tolerance_frames: float = 1.5,
    near: tuple[float, float] | None = None,
) -> TimeFit | None:
    """How fast the clip's time runs against the song's, from one song's matched hashes.

    query_frames, song_frames: float64 [shape=(n,)], the anchor frame of each hash shared by
    the clip and the song, in the clip's own time and in the song's.  A true match lies on
    a line song = ratio * query + offset; chance hits scatter.  Every ratio on a grid of
    `step` within 1 +- max_change is scored by the most hashes within tolerance_frames of
    one such line, and the best line is refined by least squares on those hashes.
    near: (ratio, offset_frames) of the alignment the match was found at; only the pairs
    that a line of the grid passing near it could hold are weighed.  The rest are a song's
    chance pairs elsewhere: on a 5 s clip they are most of its pairs and most of the time,
    and they can only pull the fit to another place (a repeat) than the one named.
    Returns a TimeFit, or None with fewer than 3 pairs or inliers.
    """
    q = np.asarray(query_frames, dtype=np.float64)
    s = np.asarray(song_frames, dtype=np.float64)
    if near is not None and len(q):
        ratio, offset = near
        # a line of the grid through the alignment's middle is at most this far from it
        reach = (max_change + abs(ratio - 1.0)) * float(np.max(np.abs(q))) + 2 * tolerance_frames + 1
        close = np.abs(s - ratio * q - offset) <= reach
        q, s = q[close], s[close]
    if len(q) < 3:
        return None
    ratios = np.arange(1.0 - max_change, 1.0 + max_change + step / 2, step)
    intercepts = np.sort(s[None, :] - ratios[:, None] * q[None, :], axis=1)
    # For each ratio: the most intercepts inside one window of 2 * tolerance_frames.
    upper = np.empty_like(intercepts, dtype=np.int64)
    for row in range(len(ratios)):
        upper[row] = np.searchsorted(intercepts[row], intercepts[row] + 2 * tolerance_frames, side="right")
    counts = upper - np.arange(intercepts.shape[1])[None, :]
    best_row, best_start = np.unravel_index(np.argmax(counts), counts.shape)
    centre = intercepts[best_row, best_start] + tolerance_frames
    inliers = np.abs(s - ratios[best_row] * q - centre) <= tolerance_frames
    if inliers.sum() < 3:
        return None
    q_in, s_in = q[inliers], s[inliers]
    spread = float(np.sum((q_in - q_in.mean()) ** 2))
    if spread == 0:  # every inlier at one query frame: the slope is unknown, keep the grid's
        return TimeFit(float(ratios[best_row]), float(centre), int(inliers.sum()), float("inf"))
    ratio, offset = np.polyfit(q_in, s_in, 1)
    residual = s_in - (ratio * q_in + offset)
    # Frames are whole numbers and peaks jitter by one: never trust residuals below half a frame.
    sigma = max(float(np.sqrt(np.sum(residual**2) / max(len(q_in) - 2, 1))), 0.5)
    resolution = 5 * sigma / np.sqrt(spread)
    return TimeFit(float(ratio), float(offset), int(inliers.sum()), float(resolution))
