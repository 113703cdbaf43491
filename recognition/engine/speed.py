"""Changed speed, tempo and pitch: hypotheses to try, and the time ratio of a match.

The hashes hold exact frequency bins, so a clip played 1 % fast (every frequency 1 % higher)
already loses most of them.  A query is therefore also tried stretched by a grid of
factors (the service resamples it with the stream resampler): stretched by the right one,
a clip that was sped up has its pitch and tempo back.  A pitch shift is undone the same way (its tempo is then off by the factor, which the
+-1 frame vote tolerance and the 32 ms frames absorb up to about 5 %); a tempo change alone
needs no stretch at all.  Which of these it was is read afterwards from the matched hashes:
fit_time_ratio finds how fast the clip's time runs against the song's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
) -> TimeFit | None:
    """How fast the clip's time runs against the song's, from one song's matched hashes.

    query_frames, song_frames: float64 [shape=(n,)], the anchor frame of each hash shared by
    the clip and the song, in the clip's own time and in the song's.  A true match lies on
    a line song = ratio * query + offset; chance hits scatter.  Every ratio on a grid of
    `step` within 1 +- max_change is scored by the most hashes within tolerance_frames of
    one such line, and the best line is refined by least squares on those hashes.
    Returns a TimeFit, or None with fewer than 3 pairs or inliers.
    """
    q = np.asarray(query_frames, dtype=np.float64)
    s = np.asarray(song_frames, dtype=np.float64)
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
