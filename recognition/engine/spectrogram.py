"""Short-time power spectrum in dB, framed on a fixed hop grid."""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

# Keeps log10 finite on digital silence; far below any amplitude floor in use.
_POWER_EPS = 1e-12
_BLOCK_FRAMES = 2048


def frame_count(n_samples: int, *, window: int, hop: int) -> int:
    """Number of whole windows that fit in n_samples on the hop grid starting at sample 0."""
    if n_samples < window:
        return 0
    return (n_samples - window) // hop + 1


def spectrogram_db(samples: np.ndarray, *, window: int, hop: int) -> np.ndarray:
    """Power spectrogram in dB relative to a full-scale sine.

    samples: float32 [shape=(n_samples,)], mono, in [-1, 1].
    Returns float32 [shape=(n_frames, window // 2 + 1)]: frame k covers
    samples[k * hop : k * hop + window].
    """
    n_frames = frame_count(len(samples), window=window, hop=hop)
    if n_frames == 0:
        return np.zeros((0, window // 2 + 1), dtype=np.float32)
    taper = np.hanning(window).astype(np.float32)
    frames = sliding_window_view(np.asarray(samples, dtype=np.float32), window)[::hop][:n_frames]
    # A full-scale sine puts (sum(taper) / 2)^2 of power in its bin: call that 0 dB.
    full_scale = np.float32((taper.sum() / 2.0) ** 2)
    out = np.empty((n_frames, window // 2 + 1), dtype=np.float32)
    # Blocks bound the memory of the windowed copy; scipy's FFT stays in float32.
    for start in range(0, n_frames, _BLOCK_FRAMES):
        spectrum = scipy.fft.rfft(frames[start : start + _BLOCK_FRAMES] * taper, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        out[start : start + _BLOCK_FRAMES] = 10.0 * np.log10(power / full_scale + _POWER_EPS)
    return out
