"""Generated mixes for the track list tests: songs joined by linear crossfades."""

from __future__ import annotations

import numpy as np


def crossfade(first: np.ndarray, second: np.ndarray, *, overlap: int) -> np.ndarray:
    """first then second, the last `overlap` samples of first fading into the first of second."""
    if overlap == 0:
        return np.concatenate([first, second])
    ramp = np.linspace(0.0, 1.0, overlap, dtype=np.float32)
    middle = first[-overlap:] * (1 - ramp) + second[:overlap] * ramp
    return np.concatenate([first[:-overlap], middle, second[overlap:]]).astype(np.float32)


def mix(parts: list[np.ndarray], *, overlap: int) -> tuple[np.ndarray, list[float]]:
    """The parts crossfaded in order, and each boundary (the middle of each crossfade) in samples."""
    out, boundaries = parts[0], []
    for part in parts[1:]:
        boundaries.append(len(out) - overlap / 2)
        out = crossfade(out, part, overlap=overlap)
    return out, boundaries
