"""Chunk-invariant fingerprinting: feed samples in any chunks, get exactly the same hashes.

Each stage finalises only what no later sample can change: a frame's peaks once the frames
within the peak radius have arrived, a density block once all its frames are picked, an
anchor once its whole target zone is capped.  Only that much state is kept between chunks,
so a live stream is fingerprinted once, and a file is the same code fed one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import convert
from .hashes import F1_BITS, F1_MASK, F1_SHIFT, pair_peaks
from .params import FingerprintParams
from .peaks import cap_density, local_maxima, vertex_offsets
from .spectrogram import frame_count, spectrogram_db

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class Hashes:
    """hashes and the anchor frame of each, int64 [shape=(n,)]."""

    hashes: np.ndarray
    offsets_frames: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    def target_ranks(self) -> np.ndarray:
        """Each hash's rank among its anchor's targets (0: the nearest), int64 [shape=(n,)].

        pair_peaks gives an anchor's hashes one after another, nearest target first, and no
        two anchors share a frame and a bin, so a new (frame, anchor bin) starts a new anchor.
        """
        anchors = (self.offsets_frames << F1_BITS) | ((self.hashes >> F1_SHIFT) & F1_MASK)
        starts = np.r_[True, anchors[1:] != anchors[:-1]] if len(anchors) else np.zeros(0, dtype=bool)
        first = np.flatnonzero(starts)[np.cumsum(starts) - 1]
        return np.arange(len(anchors)) - first

    def select(self, mask: np.ndarray) -> Hashes:
        return Hashes(self.hashes[mask], self.offsets_frames[mask])

    @staticmethod
    def concat(parts: list[Hashes]) -> Hashes:
        if not parts:
            return Hashes(_EMPTY_I, _EMPTY_I)
        return Hashes(
            np.concatenate([p.hashes for p in parts]),
            np.concatenate([p.offsets_frames for p in parts]),
        )


@dataclass(frozen=True)
class Peaks:
    """Peaks kept by the density cap: frame and bin of each, int64 [shape=(n,)], by frame then bin,
    and where between frames and bins each one's maximum lies (peaks.vertex_offsets: float32,
    -0.5..0.5; the speed search moves peaks by fractions of a bin)."""

    frames: np.ndarray
    bins: np.ndarray
    frame_offsets: np.ndarray
    bin_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


class StreamingFingerprinter:
    """Turns a stream of mono samples at params.sample_rate_hz into (hash, offset) pairs.

    query=True uses the denser query settings (query_peaks_per_s, query_fan_out), whose
    hashes are a superset of what the catalogue stores for the same audio.
    """

    def __init__(self, params: FingerprintParams, *, query: bool = False) -> None:
        self.params = params
        self._per_block = convert.peaks_per_block(
            params.query_peaks_per_s if query else params.peaks_per_s, params
        )
        self._bin_lo, self._bin_hi = convert.band_bins(params)
        self._samples = np.zeros(0, dtype=np.float32)
        self._n_frames = 0  # spectrogram frames computed so far
        self._spec = np.zeros((0, self._bin_hi - self._bin_lo + 1), dtype=np.float32)
        self._spec_start = 0  # absolute frame of self._spec[0]
        self._peaks_done = 0  # frames below this have been peak-picked
        self._raw = (_EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, _EMPTY_F)  # frames, bins, dB, offsets
        self._blocks_done = 0  # frames below this have been density-capped
        self._capped: list[tuple[np.ndarray, ...]] = []  # every peak the cap kept, for peaks()
        self._pairer = PeakPairer(params, query=query)
        self._finished = False

    @property
    def seconds_received(self) -> float:
        """Audio fed so far, in seconds."""
        return (self._n_frames * self.params.hop + len(self._samples)) / self.params.sample_rate_hz

    @property
    def frames_done(self) -> int:
        """Frames whose peaks are final: peaks() holds every peak below this frame, and no other."""
        return self._blocks_done

    def peaks(self) -> Peaks:
        """Every peak the density cap has kept so far (the hashes' anchors and targets)."""
        if len(self._capped) > 1:
            self._capped = [tuple(np.concatenate(parts) for parts in zip(*self._capped, strict=True))]
        if not self._capped:
            return Peaks(_EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F)
        return Peaks(*self._capped[0])

    def push(self, samples: np.ndarray) -> Hashes:
        """Add float32 mono samples [shape=(n,)]; return the hashes they completed."""
        if self._finished:
            raise RuntimeError("push() after flush()")
        self._add_samples(np.asarray(samples, dtype=np.float32).reshape(-1))
        return self._advance(final=False)

    def flush(self) -> Hashes:
        """End of stream: return every hash still pending."""
        if self._finished:
            return Hashes(_EMPTY_I, _EMPTY_I)
        self._finished = True
        return self._advance(final=True)

    def _add_samples(self, samples: np.ndarray) -> None:
        p = self.params
        buffer = np.concatenate([self._samples, samples]) if len(self._samples) else samples
        n_new = frame_count(len(buffer), window=p.window, hop=p.hop)
        if n_new:
            used = (n_new - 1) * p.hop + p.window
            spec = spectrogram_db(buffer[:used], window=p.window, hop=p.hop)
            self._spec = np.concatenate([self._spec, spec[:, self._bin_lo : self._bin_hi + 1]])
            self._n_frames += n_new
            buffer = buffer[n_new * p.hop :]
        self._samples = np.array(buffer, dtype=np.float32, copy=True)

    def _advance(self, *, final: bool) -> Hashes:
        p = self.params
        radius = p.peak_time_radius_frames
        # the peak's neighbourhood, and at least the frames either side its vertex is fitted on
        context = max(radius, 1)
        total = self._n_frames

        # 1. Peaks of frames whose whole time neighbourhood is known.
        upto = total if final else max(self._peaks_done, total - context)
        if upto > self._peaks_done:
            ctx_lo = max(0, self._peaks_done - context)
            ctx_hi = min(total, upto + context)
            rows = self._spec[ctx_lo - self._spec_start : ctx_hi - self._spec_start]
            frames, bins = local_maxima(
                rows,
                freq_radius_bins=p.peak_freq_radius_bins,
                time_radius_frames=radius,
                floor_db=p.amplitude_floor_db,
            )
            strength = rows[frames, bins]
            frame_offsets, bin_offsets = vertex_offsets(rows, frames, bins)
            frames = frames + ctx_lo
            inside = (frames >= self._peaks_done) & (frames < upto)
            new = (frames, bins + self._bin_lo, strength, frame_offsets, bin_offsets)
            self._raw = tuple(
                np.concatenate([old, part[inside]]) for old, part in zip(self._raw, new, strict=True)
            )
            self._peaks_done = upto
            keep_from = max(0, upto - context)
            self._spec = self._spec[keep_from - self._spec_start :]
            self._spec_start = keep_from

        # 2. Density cap on whole blocks (the last, partial one only at the end).
        block = p.density_block_frames
        cap_upto = self._peaks_done if final else (self._peaks_done // block) * block
        new_frames, new_bins = _EMPTY_I, _EMPTY_I
        if cap_upto > self._blocks_done:
            frames, bins, strength, frame_offsets, bin_offsets = self._raw
            ready = frames < cap_upto
            chosen = np.flatnonzero(ready)[
                cap_density(
                    frames[ready], bins[ready], strength[ready], block_frames=block, per_block=self._per_block
                )
            ]
            new_frames, new_bins = frames[chosen], bins[chosen]
            self._capped.append((new_frames, new_bins, frame_offsets[chosen], bin_offsets[chosen]))
            self._raw = tuple(a[~ready] for a in self._raw)
            self._blocks_done = cap_upto

        # 3. Pair anchors whose whole target zone has been capped.
        return self._pairer.push(new_frames, new_bins, frames_done=self._blocks_done, final=final)


def hash_peaks(
    frames: np.ndarray, bins: np.ndarray, anchor_mask: np.ndarray, params: FingerprintParams, *, query: bool
) -> Hashes:
    """Pair peaks into hashes with the engine's target zone: the one place peaks become hashes.

    frames, bins: int64 [shape=(n,)], sorted by frame then bin; anchor_mask: bool [shape=(n,)],
    the peaks to pair as anchors (every peak may be a target).  query=True pairs each anchor
    with query_fan_out targets instead of fan_out.  The fingerprinter and the speed search's
    stretched peaks (engine.speed) both come here, so a change of the hash layout reaches both.
    """
    hashes, offsets = pair_peaks(
        frames,
        bins,
        anchor_mask,
        dt_min_frames=params.target_dt_min_frames,
        dt_max_frames=params.target_dt_max_frames,
        df_max_bins=params.target_df_max_bins,
        fan_out=params.query_fan_out if query else params.fan_out,
    )
    return Hashes(hashes, offsets)


class PeakPairer:
    """Peaks in as they become final, hashes out: an anchor is paired once its whole target
    zone is final, so the hashes do not depend on how the peaks were cut into pushes."""

    def __init__(self, params: FingerprintParams, *, query: bool) -> None:
        self.params = params
        self.query = query
        self._peaks = (_EMPTY_I, _EMPTY_I)  # peaks still needed as anchors or targets
        self._anchors_done = 0  # anchors below this frame have been paired

    def push(self, frames: np.ndarray, bins: np.ndarray, *, frames_done: int, final: bool = False) -> Hashes:
        """Add the peaks of the frames up to frames_done (exclusive) not pushed before, sorted by
        frame then bin (int64 [shape=(n,)]); final: no peak will follow.  Returns the new hashes."""
        if len(frames):
            self._peaks = (np.concatenate([self._peaks[0], frames]), np.concatenate([self._peaks[1], bins]))
        anchor_upto = frames_done if final else max(0, frames_done - self.params.target_dt_max_frames)
        if anchor_upto <= self._anchors_done:
            return Hashes(_EMPTY_I, _EMPTY_I)
        frames, bins = self._peaks
        is_anchor = (frames >= self._anchors_done) & (frames < anchor_upto)
        hashes = hash_peaks(frames, bins, is_anchor, self.params, query=self.query)
        self._anchors_done = anchor_upto
        still_needed = frames >= anchor_upto
        self._peaks = (frames[still_needed], bins[still_needed])
        return hashes


def fingerprint(samples: np.ndarray, params: FingerprintParams, *, query: bool = False) -> Hashes:
    """All hashes of a whole signal: the streaming fingerprinter fed one chunk."""
    fingerprinter = StreamingFingerprinter(params, query=query)
    return Hashes.concat([fingerprinter.push(samples), fingerprinter.flush()])
