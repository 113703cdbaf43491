"""The matcher: one path from audio to an answer, for files, microphones, browsers and the API.

ListeningSession is the only matcher.  A file is a session fed one chunk; a live stream
feeds it chunk by chunk and reads its answer as soon as the no-match rule is satisfied.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from catalog import selectors

from . import conf
from .engine.audio import decode_file
from .engine.convert import frames_to_seconds
from .engine.matching import Candidate, OffsetTally, decide, offset_votes
from .engine.params import FingerprintParams
from .engine.stream import StreamingFingerprinter

logger = logging.getLogger("jamjar.recognition")


class CatalogueVersionMismatch(Exception):
    """The catalogue holds fingerprints made with other hash-shaping parameters."""


@dataclass(frozen=True)
class Match:
    song_id: int
    title: str
    artist: str
    offset_seconds: float
    confidence: int
    score: float
    #: the candidate's aligned votes over the bar the no-match rule sets it (the larger of the
    #: votes needed and min_margin x the strongest other song's): 1 or more for an answer
    rule_margin: float = 0.0
    #: the whole song, so a client can follow the position to its end
    duration_s: float = 0.0
    #: the embedded cover's thumbnail (a path on this server), None without one
    cover_url: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Timings:
    fingerprint_s: float = 0.0
    lookup_s: float = 0.0
    align_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.fingerprint_s + self.lookup_s + self.align_s

    def as_dict(self) -> dict:
        return {
            "fingerprint_s": round(self.fingerprint_s, 6),
            "lookup_s": round(self.lookup_s, 6),
            "align_s": round(self.align_s, 6),
            "total_s": round(self.total_s, 6),
        }


@dataclass
class RecognitionResult:
    match: Match | None
    matches: list[Match]
    query_hashes: int
    seconds: float
    timings: Timings = field(default_factory=Timings)
    reason: str = ""
    #: a live answer: the rule accepted the same song at the same offset on two pushes in
    #: a row, and its votes grew in between (a stream is judged many times; a chance
    #: alignment crosses the threshold and stalls, the right song keeps gaining votes)
    confirmed: bool = False

    def as_dict(self) -> dict:
        return {
            "match": self.match.as_dict() if self.match else None,
            "matches": [m.as_dict() for m in self.matches],
            "query_hashes": self.query_hashes,
            "seconds": round(self.seconds, 3),
            "timings": self.timings.as_dict(),
            "match_time_s": round(self.timings.total_s, 6),
            "no_match_reason": self.reason if self.match is None else "",
        }


def check_catalogue_version(params: FingerprintParams) -> None:
    versions = selectors.catalogue_versions()
    other = {version: n for version, n in versions.items() if version != params.version}
    if other:
        described = ", ".join(f"{n} song(s) with {version}" for version, n in sorted(other.items()))
        raise CatalogueVersionMismatch(
            f"the catalogue holds fingerprints made with other engine parameters ({described}); "
            f"the engine is now configured for {params.version}. Run "
            f"`python manage.py refingerprint` to re-fingerprint them with the current "
            f"parameters, or restore the JAMJAR_FINGERPRINT settings they were made with."
        )


class ListeningSession:
    """Incremental recognition of one stream of audio at the engine rate.

    Each chunk is fingerprinted once (the fingerprinter keeps what straddles a chunk
    boundary), its hashes looked up once, and its votes added to the running tally.
    """

    def __init__(
        self,
        *,
        params: FingerprintParams | None = None,
        service: conf.ServiceSettings | None = None,
        top_n: int | None = None,
        check_version: bool = True,
    ) -> None:
        self.params = params or conf.fingerprint_params()
        self.service = service or conf.service_settings()
        self.top_n = top_n or self.service.top_n
        if check_version:
            check_catalogue_version(self.params)
        self._fingerprinter = StreamingFingerprinter(self.params, query=True)
        self._tally = OffsetTally()
        self.query_hashes = 0
        self.timings = Timings()
        self._songs: dict = {}
        self._last_match: Match | None = None
        self.finished = False

    @property
    def seconds(self) -> float:
        return self._fingerprinter.seconds_received

    def push(self, samples: np.ndarray) -> RecognitionResult:
        """Add samples (float32 mono at params.sample_rate_hz); return the answer so far."""
        started = time.perf_counter()
        hashes = self._fingerprinter.push(samples)
        self.timings.fingerprint_s += time.perf_counter() - started
        self._vote(hashes)
        result = self.result()
        previous, self._last_match = self._last_match, result.match
        if result.match is not None and previous is not None:
            tolerance_s = float(frames_to_seconds(self.service.tolerance_frames, self.params))
            result.confirmed = (
                previous.song_id == result.match.song_id
                and abs(previous.offset_seconds - result.match.offset_seconds) <= tolerance_s + 1e-6
                and result.match.confidence > previous.confidence
            )
        return result

    def finish(self) -> RecognitionResult:
        """End of the stream: count the hashes still pending and return the final answer."""
        if not self.finished:
            started = time.perf_counter()
            hashes = self._fingerprinter.flush()
            self.timings.fingerprint_s += time.perf_counter() - started
            self._vote(hashes)
            self.finished = True
        result = self.result()
        result.confirmed = result.match is not None
        return result

    def _vote(self, hashes) -> None:
        if len(hashes) == 0:
            return
        self.query_hashes += len(hashes)
        started = time.perf_counter()
        db_hashes, db_songs, db_offsets = selectors.fingerprint_rows(hashes.hashes)
        looked_up = time.perf_counter()
        self._tally.add(offset_votes(hashes.hashes, hashes.offsets_frames, db_hashes, db_songs, db_offsets))
        self.timings.lookup_s += looked_up - started
        self.timings.align_s += time.perf_counter() - looked_up

    def result(self) -> RecognitionResult:
        started = time.perf_counter()
        candidates = self._tally.candidates(top_n=self.top_n, tolerance_frames=self.service.tolerance_frames)
        decision = decide(
            candidates,
            min_aligned_votes=self.service.min_aligned_votes,
            min_margin=self.service.min_margin,
            chance_votes_factor=self.service.chance_votes_factor,
            total_votes=self._tally.total_votes,
        )
        self.timings.align_s += time.perf_counter() - started
        matches = self._describe(candidates, total_votes=self._tally.total_votes)
        return RecognitionResult(
            match=matches[0] if decision.is_match else None,
            matches=matches,
            query_hashes=self.query_hashes,
            seconds=self.seconds,
            timings=self.timings,
            reason=decision.reason,
        )

    def _rule_bars(self, candidates: list[Candidate], *, total_votes: int) -> list[float]:
        """The aligned votes each candidate would need to be named: the two terms of decide()."""
        needed = self.service.min_aligned_votes + self.service.chance_votes_factor * float(np.sqrt(max(total_votes, 0)))
        votes = [candidate.aligned_votes for candidate in candidates]
        bars = []
        for index in range(len(votes)):
            strongest_other = max(votes[:index] + votes[index + 1 :], default=0)
            bars.append(max(needed, self.service.min_margin * strongest_other, 1e-9))
        return bars

    def _describe(self, candidates: list[Candidate], *, total_votes: int = 0) -> list[Match]:
        missing = {c.song_id for c in candidates} - set(self._songs)
        if missing:
            started = time.perf_counter()
            self._songs.update(selectors.songs_by_id(missing))
            self.timings.lookup_s += time.perf_counter() - started
        described = []
        bars = self._rule_bars(candidates, total_votes=total_votes)
        for candidate, bar in zip(candidates, bars):
            song = self._songs.get(candidate.song_id)
            if song is None:  # deleted while we listened
                continue
            # Score: the share of the hashes the catalogue holds for this stretch of the
            # song that the query reproduced at the right offset.
            expected = song.fingerprints_per_s * max(self.seconds, 1e-9)
            described.append(
                Match(
                    song_id=song.pk,
                    title=song.title,
                    artist=song.artist,
                    offset_seconds=round(float(frames_to_seconds(candidate.offset_frames, self.params)), 3),
                    confidence=candidate.aligned_votes,
                    score=round(min(1.0, candidate.aligned_votes / expected) if expected else 0.0, 4),
                    # Rounded down, so a candidate the rule refuses never shows 1.0.
                    rule_margin=math.floor(candidate.aligned_votes / bar * 1000) / 1000,
                    duration_s=round(song.duration_s, 3),
                    cover_url=song.cover_url,
                )
            )
        return described


def recognize_samples(samples: np.ndarray, **session_options) -> RecognitionResult:
    """Recognise a whole clip (float32 mono at the engine rate)."""
    session = ListeningSession(**session_options)
    session.push(samples)
    return session.finish()


def recognize_file(path, *, start_s: float = 0.0, seconds: float | None = None, **session_options) -> RecognitionResult:
    """Decode a file (or a part of it) and recognise it.  Raises AudioDecodeError."""
    params = session_options.get("params") or conf.fingerprint_params()
    samples = decode_file(path, sample_rate_hz=params.sample_rate_hz, start_s=start_s, limit_s=seconds)
    return recognize_samples(samples, **{**session_options, "params": params})


def log_recognition(
    result: RecognitionResult, *, source: str, file_name: str = "", client_address: str = "", user=None
) -> None:
    """Record an answer in the Recognition log, with where the question came from."""
    from .models import Recognition

    best = result.match
    Recognition.objects.create(
        source=source,
        song_id=best.song_id if best else None,
        offset_s=best.offset_seconds if best else None,
        confidence=best.confidence if best else (result.matches[0].confidence if result.matches else 0),
        score=best.score if best else 0.0,
        listened_s=result.seconds,
        query_hashes=result.query_hashes,
        match_time_ms=result.timings.total_s * 1000.0,
        file_name=(file_name or "")[-255:],
        client_address=(client_address or "")[:64],
        user=user if user is not None and user.is_authenticated else None,
    )
