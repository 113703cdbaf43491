"""jamjar's settings: two namespaced dicts merged over documented defaults.

``JAMJAR_FINGERPRINT`` holds engine parameters (every field of FingerprintParams; see
recognition/engine/params.py for units).  ``JAMJAR`` holds service settings, below.
Both are read when needed, not cached at import, so tests can override them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings

from .engine.params import FingerprintParams

FINGERPRINT_KEYS = frozenset(f.name for f in dataclasses.fields(FingerprintParams))


@dataclass(frozen=True)
class ServiceSettings:
    #: matches returned by recognize / the API
    top_n: int = 5
    #: the no-match rule (see README "No-match rule"): aligned votes needed at least ...
    min_aligned_votes: int = 10
    #: ... plus this many times the square root of all the votes the query drew (off by
    #: default: all votes grow with the catalogue, the best chance alignment hardly does) ...
    chance_votes_factor: float = 0.0
    #: ... and how many times the runner-up song's aligned votes the best must have
    min_margin: float = 2.0
    #: votes are counted within +- this many frames of an offset
    tolerance_frames: int = 1
    #: speed search (README "Speed, tempo and pitch"): a query with no answer is also tried
    #: stretched by up to +- this many percent (0: off) ...
    speed_search_percent: float = 5.0
    #: ... in steps of this many percent
    speed_search_step_percent: float = 1.0
    #: an answer found only by the speed search needs this many aligned votes ...
    speed_search_min_votes: int = 15
    #: ... and this many times the best other song's votes at any speed
    speed_search_margin: float = 2.5
    #: the speed search reads at most the first this many seconds of a query
    speed_search_max_s: float = 12.0
    #: a live stream with no answer yet is searched again after each this many seconds of audio
    speed_search_every_s: float = 3.0
    #: live listening (websocket, listen command): give up after this many seconds
    max_listen_s: float = 15.0
    #: a live answer is not given before this much audio (avoids deciding on a blip)
    min_listen_s: float = 1.0
    #: progress messages at most this often, in seconds of audio
    progress_every_s: float = 0.5
    #: a live connection is closed after this many seconds of wall-clock time, whatever it sent
    session_timeout_s: float = 60.0
    #: largest binary websocket frame, bytes (about 2 s of 48 kHz int16 audio)
    max_frame_bytes: int = 192_000
    #: concurrent live sessions per client address
    max_sessions_per_client: int = 4
    #: sample rates a live client may announce
    min_sample_rate_hz: int = 8000
    max_sample_rate_hz: int = 48000
    #: worker threads for live fingerprinting (None: Python's default for the CPU count)
    live_worker_threads: int | None = None
    #: the REST API's reads (songs, stats) and recognising are open to anyone; False: signed-in users only
    api_open: bool = True
    #: largest track uploaded through the API or the admin, bytes
    api_max_track_bytes: int = 100 * 1024 * 1024
    #: largest clip (file or raw PCM body) sent to POST /api/recognize/, bytes ...
    api_max_clip_bytes: int = 5 * 1024 * 1024
    #: ... and seconds of audio
    api_max_clip_s: float = 60.0
    #: anonymous recognitions per client address, as DRF writes rates ("30/minute"; None: no limit)
    api_anon_recognize_rate: str | None = "30/minute"

    def __post_init__(self) -> None:
        rate = self.api_anon_recognize_rate
        if rate is not None:
            parts = str(rate).split("/")
            if len(parts) != 2 or not parts[0].isdigit() or parts[1][:1] not in {"s", "m", "h", "d"}:
                raise ValueError(f"api_anon_recognize_rate {rate!r}: write it as N/second, N/minute, N/hour or N/day")
        if not 0 <= self.speed_search_percent < 50:
            raise ValueError("speed_search_percent must be in 0..50")
        if self.speed_search_percent and self.speed_search_step_percent <= 0:
            raise ValueError("speed_search_step_percent must be positive")
        for name in ("api_max_track_bytes", "api_max_clip_bytes", "api_max_clip_s", "speed_search_max_s", "speed_search_every_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


SERVICE_KEYS = frozenset(f.name for f in dataclasses.fields(ServiceSettings))


def fingerprint_params() -> FingerprintParams:
    overrides = dict(getattr(settings, "JAMJAR_FINGERPRINT", {}) or {})
    unknown = set(overrides) - FINGERPRINT_KEYS
    if unknown:
        raise ValueError(f"unknown JAMJAR_FINGERPRINT key(s): {', '.join(sorted(unknown))}")
    return FingerprintParams(**overrides)


def service_settings() -> ServiceSettings:
    overrides = dict(getattr(settings, "JAMJAR", {}) or {})
    unknown = set(overrides) - SERVICE_KEYS
    if unknown:
        raise ValueError(f"unknown JAMJAR key(s): {', '.join(sorted(unknown))}")
    return ServiceSettings(**overrides)
