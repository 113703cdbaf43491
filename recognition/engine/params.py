"""Engine parameters as one frozen dataclass, with a version of the fields that shape hashes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from .hashes import F1_BITS, F2_BITS

# Fields that do not change which hashes a track produces: they can vary between the
# catalogue and a query without re-fingerprinting.
QUERY_ONLY_FIELDS = frozenset({"query_peaks_per_s", "query_fan_out", "fingerprint_limit_s"})


@dataclass(frozen=True)
class FingerprintParams:
    """Every engine parameter, with its unit.  See README "Tuning" for the trade-offs."""

    #: every input is downmixed and resampled to this rate before analysis
    sample_rate_hz: int = 8000
    #: STFT window length (Hann), in samples at sample_rate_hz
    window: int = 1024
    #: STFT hop, in samples; sets the time resolution of offsets (256: 32 ms)
    hop: int = 256
    #: peaks are searched only between these frequencies
    min_freq_hz: float = 200.0
    max_freq_hz: float = 3800.0
    #: a peak is the maximum of a (2r+1) x (2r+1) neighbourhood, r in bins and frames
    peak_freq_radius_bins: int = 10
    peak_time_radius_frames: int = 3
    #: no peak quieter than this, in dB relative to a full-scale sine
    amplitude_floor_db: float = -65.0
    #: density cap: the strongest peaks kept per second of audio, for the catalogue
    peaks_per_s: float = 24.0
    #: the cap is applied per block of this many frames
    density_block_frames: int = 8
    #: each anchor peak is paired with this many following peaks (catalogue side)
    fan_out: int = 4
    #: target zone: frames after the anchor, and maximum bin distance
    target_dt_min_frames: int = 1
    target_dt_max_frames: int = 40
    target_df_max_bins: int = 96
    #: queries keep more peaks and pairs so that they cover the catalogue's sparser set
    query_peaks_per_s: float = 48.0
    query_fan_out: int = 12
    #: Dejavu's fingerprint_limit: fingerprint only the first N seconds of a track (None: all)
    fingerprint_limit_s: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate_hz < 4000:
            problems.append("sample_rate_hz must be at least 4000")
        if self.window <= 0 or self.window & (self.window - 1):
            problems.append("window must be a power of two")
        if not 0 < self.hop <= self.window:
            problems.append("hop must be in 1..window")
        if not 0 <= self.min_freq_hz < self.max_freq_hz <= self.sample_rate_hz / 2:
            problems.append("need 0 <= min_freq_hz < max_freq_hz <= sample_rate_hz / 2")
        # The same rounding as convert.hz_to_bin: the highest bin a peak can land in must fit the hash.
        top_bin = (
            int(round(self.max_freq_hz * self.window / self.sample_rate_hz)) if self.sample_rate_hz > 0 else 0
        )
        if top_bin >= 2 ** min(F1_BITS, F2_BITS):
            problems.append(
                f"max_freq_hz falls in bin {top_bin}, beyond the bins 0..{2 ** min(F1_BITS, F2_BITS) - 1} "
                "the hash layout holds (lower max_freq_hz or window)"
            )
        if self.peak_freq_radius_bins < 0 or self.peak_time_radius_frames < 0:
            problems.append("peak_freq_radius_bins and peak_time_radius_frames must be >= 0")
        if self.density_block_frames < 1:
            problems.append("density_block_frames must be at least 1")
        if self.target_df_max_bins < 0:
            problems.append("target_df_max_bins must be >= 0")
        if not 1 <= self.target_dt_min_frames <= self.target_dt_max_frames <= 63:
            problems.append("need 1 <= target_dt_min_frames <= target_dt_max_frames <= 63")
        if self.fan_out < 1 or self.query_fan_out < self.fan_out:
            problems.append("need 1 <= fan_out <= query_fan_out")
        if self.peaks_per_s <= 0 or self.query_peaks_per_s < self.peaks_per_s:
            problems.append("need 0 < peaks_per_s <= query_peaks_per_s")
        if self.fingerprint_limit_s is not None and self.fingerprint_limit_s <= 0:
            problems.append("fingerprint_limit_s must be positive or None")
        if problems:
            raise ValueError("invalid fingerprint parameters: " + "; ".join(problems))

    @property
    def frames_per_s(self) -> float:
        return self.sample_rate_hz / self.hop

    @property
    def version(self) -> str:
        """A short id of the fields that change the hashes; stored with each song."""
        shaping = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in QUERY_ONLY_FIELDS
        }
        digest = hashlib.sha1(json.dumps(shaping, sort_keys=True).encode()).hexdigest()
        return f"h1-{digest[:10]}"

    def replace(self, **changes) -> FingerprintParams:
        return dataclasses.replace(self, **changes)
