"""Conversions between frames/bins and seconds/Hz, kept in one place."""

from __future__ import annotations

import numpy as np

from .params import FingerprintParams


def frames_to_seconds(frames, params: FingerprintParams):
    return np.asarray(frames) * (params.hop / params.sample_rate_hz)


def seconds_to_frames(seconds: float, params: FingerprintParams) -> int:
    return int(round(seconds * params.sample_rate_hz / params.hop))


def hz_to_bin(freq_hz: float, params: FingerprintParams) -> int:
    return int(round(freq_hz * params.window / params.sample_rate_hz))


def band_bins(params: FingerprintParams) -> tuple[int, int]:
    """The lowest and highest bin (inclusive) where peaks are sought."""
    return hz_to_bin(params.min_freq_hz, params), min(
        hz_to_bin(params.max_freq_hz, params), params.window // 2
    )


def bins_to_hz(bins, params: FingerprintParams):
    return np.asarray(bins) * (params.sample_rate_hz / params.window)


def peaks_per_block(peaks_per_s: float, params: FingerprintParams) -> int:
    """How many peaks the density cap keeps in one block of density_block_frames."""
    return max(1, int(round(peaks_per_s * params.density_block_frames / params.frames_per_s)))
