"""jamjar's settings: two namespaced dicts merged over documented defaults.

``JAMJAR_FINGERPRINT`` holds engine parameters (every field of FingerprintParams; see
recognition/engine/params.py for units).  ``JAMJAR`` holds service settings, below.
Both are read when needed, not cached at import, so tests can override them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings

from .engine.matching import VerificationRule
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
    #: verification (README "Verification"): the top_n candidates are checked peak by peak
    #: against the song's own peaks; False leaves the vote rule alone
    verify: bool = True
    #: a query peak within +- this many frames and bins of a song peak is a hit
    verify_tolerance_frames: int = 1
    verify_tolerance_bins: int = 0
    #: an answer of the vote rule whose verification z is below this is refused ...
    verify_reject_below_z: float = 4.5
    #: ... and when the vote rule names none, the alignment that verifies best is named with
    #: this many aligned votes ...
    verify_min_votes: int = 5
    #: ... a verification z of at least this ...
    verify_min_z: float = 6.0
    #: ... and this much more z than any other song; the verify_songs songs with most votes
    #: are weighed, each at its verify_offsets best alignments
    verify_z_margin: float = 3.5
    verify_songs: int = 10
    verify_offsets: int = 3
    #: a named song's hits must be above chance (z at least this) in two of the three thirds
    #: of the query that hold song peaks (one, if only one does); 0 switches the check off
    verify_min_part_z: float = 1.0
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
    #: a stream with no answer after this many seconds of audio starts the speed search
    #: (a file or API clip without an answer is searched at its end, however short)
    speed_search_after_s: float = 3.0
    #: a file or API clip is looked up in two steps: first the hashes of each anchor's first
    #: this many targets (0: every hash at once) ...
    staged_first_targets: int = 4
    #: ... then the rest, unless the first step's answer clears its bar (rule_margin) this
    #: many times over
    staged_margin: float = 2.0
    #: live listening (websocket, listen command): give up after this many seconds
    max_listen_s: float = 15.0
    #: a live answer is not given before this much audio (avoids deciding on a blip)
    min_listen_s: float = 1.0
    #: progress messages at most this often, in seconds of audio
    progress_every_s: float = 0.5
    #: live audio is matched this many seconds at a time (frames arriving in between are
    #: kept): each matching step has a fixed cost, so longer chunks cost less CPU per second
    #: of audio, and answer up to that much later
    live_chunk_s: float = 0.5
    #: a live stream is judged after each chunk as if it ended there, with the hashes of
    #: anchors whose target zone is still arriving (about 1.3 s sooner; more lookups until
    #: the answer); false judges only the hashes that are final
    live_judge_tail: bool = True
    #: a live answer whose rule_margin (its votes, or its verification z, over the bar the
    #: rule sets it) is at least this is given on the first chunk that accepts it; a weaker
    #: one has to be accepted again on the next chunk, at the same offset, with more votes
    live_confirm_margin: float = 1.5
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
    #: seconds of audio in a track uploaded through the API or the admin (checked while decoding)
    api_max_track_s: float = 30 * 60.0
    #: live recognitions (websocket streams started) per client address, written as rates are
    live_recognize_rate: str | None = "30/minute"
    #: live audio frames per second of audio sent (plus one second's worth): stops floods of tiny frames
    max_frames_per_s: float = 50.0
    #: largest request body to the admin (its multi-file upload), bytes
    admin_max_upload_bytes: int = 512 * 1024 * 1024
    #: largest request body to any other URL outside the API's uploads, bytes
    max_request_bytes: int = 1024 * 1024
    #: a request body that sends nothing for this many seconds is answered 408
    request_body_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and "None" in str(field.type):
                continue
            wanted = {"int": int, "float": (int, float), "bool": bool}.get(str(field.type).split(" ")[0], str)
            if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
                raise ValueError(f"{field.name} must be {str(field.type).replace('|', 'or')}, not {value!r}")
            if wanted is not str and wanted is not bool and value <= 0 and field.name not in NON_NEGATIVE:
                raise ValueError(f"{field.name} must be positive, not {value!r}")
            if field.name in NON_NEGATIVE and value < 0:
                raise ValueError(f"{field.name} cannot be negative, not {value!r}")
        for name in ("api_anon_recognize_rate", "live_recognize_rate"):
            rate = getattr(self, name)
            if rate is not None:
                parts = str(rate).split("/")
                if len(parts) != 2 or not parts[0].isdigit() or parts[1][:1] not in {"s", "m", "h", "d"}:
                    raise ValueError(f"{name} {rate!r}: write it as N/second, N/minute, N/hour or N/day")
        if self.min_sample_rate_hz > self.max_sample_rate_hz:
            raise ValueError("min_sample_rate_hz is above max_sample_rate_hz")
        if self.min_listen_s > self.max_listen_s:
            raise ValueError("min_listen_s is above max_listen_s")
        if self.speed_search_percent >= 50:
            raise ValueError("speed_search_percent must be below 50")

    @property
    def verification_rule(self) -> VerificationRule | None:
        """The verification's part of the no-match rule, None when verification is off."""
        if not self.verify:
            return None
        return VerificationRule(
            reject_below_z=self.verify_reject_below_z,
            min_votes=self.verify_min_votes,
            min_z=self.verify_min_z,
            z_margin=self.verify_z_margin,
        )


# Settings where 0 means something (no votes needed, no tolerance).
NON_NEGATIVE = frozenset(
    {
        "min_aligned_votes",
        "chance_votes_factor",
        "tolerance_frames",
        "min_listen_s",
        "speed_search_percent",
        "staged_first_targets",
        "verify_tolerance_frames",
        "verify_tolerance_bins",
        "verify_reject_below_z",
        "verify_z_margin",
        "verify_min_part_z",
    }
)

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
