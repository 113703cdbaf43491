"""The matcher: one path from audio to an answer, for files, microphones, browsers and the API.

ListeningSession is the only matcher.  A file is a session fed one chunk; a live stream
feeds it chunk by chunk and reads its answer as soon as the no-match rule is satisfied.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from catalog import selectors

from . import conf
from .engine.audio import decode_file
from .engine.convert import frames_to_seconds, seconds_to_frames
from .engine.matching import Candidate, Decision, OffsetTally, decide, matched_pairs, offset_votes
from .engine.params import FingerprintParams
from .engine.speed import StretchedPeaks, fit_time_ratio, stretch_factors
from .engine.stream import Hashes, StreamingFingerprinter
from .engine.verify import occupancy, spread, unpack_peaks, verify

logger = logging.getLogger("jamjar.recognition")

#: a fitted speed ratio this close to 1.0 is reported as 1.0: a 5 s clip's fit scatters by
#: about 0.1 %, and "1.0" is what a user expects of a clip that was not changed
UNCHANGED_WITHIN = 0.0025

#: the speed search's stretches are fed this many seconds of new peaks at a time: each step
#: looks the hashes of ten stretches up, and its fixed cost per step was most of a live
#: stream's CPU when it ran on every 250 ms frame
SPEED_SEARCH_EVERY_S = 1.0


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
    #: how fast the clip's time runs against the song's: 1.03 for a clip played 3 % fast,
    #: 1.0 unchanged (offset_seconds stays in the song's own time)
    speed_ratio: float = 1.0
    #: the candidate's aligned votes over the bar the no-match rule sets it (the larger of the
    #: votes needed and min_margin x the strongest other song's): 1 or more for an answer
    rule_margin: float = 0.0
    #: the whole song, so a client can follow the position to its end
    duration_s: float = 0.0
    #: the embedded cover's thumbnail (a path on this server), None without one
    cover_url: str | None = None


@dataclass
class Timings:
    fingerprint_s: float = 0.0
    lookup_s: float = 0.0
    align_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.fingerprint_s + self.lookup_s + self.align_s


@dataclass
class RecognitionResult:
    match: Match | None
    matches: list[Match]
    query_hashes: int
    seconds: float
    timings: Timings = field(default_factory=Timings)
    #: why match is None, in words ("" with a match); output.answer() gives it as no_match_reason
    reason: str = ""
    #: a live answer: the rule accepted it with rule_margin at least live_confirm_margin,
    #: or accepted the same song at the same offset on two pushes in a row with its votes
    #: growing in between (a stream is judged many times; a chance alignment crosses the
    #: bar and stalls, the right song keeps gaining votes)
    confirmed: bool = False


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


class _Stretch:
    """One factor of the speed search: the query's peaks stretched, paired and tallied."""

    def __init__(self, factor: float, params: FingerprintParams) -> None:
        self.factor = factor
        self.peaks = StretchedPeaks(factor, params)
        self.tally = OffsetTally()
        self.hashes: list[Hashes] = []

    def vote(
        self, hashes: Hashes, db_hashes: np.ndarray, db_songs: np.ndarray, db_offsets: np.ndarray
    ) -> None:
        if len(hashes):
            self.hashes.append(hashes)
            self.tally.add(
                offset_votes(hashes.hashes, hashes.offsets_frames, db_hashes, db_songs, db_offsets)
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
        live: bool = False,
        staged: bool = False,
    ) -> None:
        """staged: a clip fed whole and then finished (not pushed) is looked up in two steps
        (service.staged_first_targets), the second only when the first leaves it in doubt."""
        self.params = params or conf.fingerprint_params()
        self.service = service or conf.service_settings()
        self._staged = staged and self.service.staged_first_targets > 0
        self._first: list[Hashes] = []  # a staged clip's hashes for the first step, until finish()
        self._held_back: list[Hashes] = []  # ... and for the second step
        self._skipped: Hashes | None = None  # the second step's hashes, when it was not needed
        # A live stream is judged after each push as if it ended there (see _with_tail).
        self._live = live and self.service.live_judge_tail
        empty = np.zeros(0, dtype=np.int64)
        self._recent = (empty, (empty, empty, empty))  # the last lookup's hashes and rows (_rows)
        self.top_n = top_n or self.service.top_n
        if check_version:
            check_catalogue_version(self.params)
        self._fingerprinter = StreamingFingerprinter(self.params, query=True)
        self._tally = OffsetTally()
        self.query_hashes = 0
        self.timings = Timings()
        self._songs: dict = {}
        self._song_peaks: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}  # None: none stored
        self._occupied: np.ndarray | None = None  # the query's peak occupancy, for verify()
        self._last_match: Match | None = None
        self.finished = False
        # each vote's hashes and the rows they drew (hash, song, offset), for fitting the time ratio
        self._drawn: list[tuple[Hashes, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
        self._factors = stretch_factors(
            max_percent=self.service.speed_search_percent, step_percent=self.service.speed_search_step_percent
        )
        # The speed search: one _Stretch per factor, fed the query's peaks of the first
        # speed_search_max_s as the stream goes on.
        self._stretches: list[_Stretch] = []
        self._stretched_frames = 0  # the query's frames the stretches have taken
        self._stretches_done = False  # every peak they will take has been taken
        self._speed: list[tuple[Candidate, _Stretch]] = []  # best stretch per song, best first
        self._answered_by_speed = False  # set by result(): the answer came from the speed search

    @property
    def seconds(self) -> float:
        return self._fingerprinter.seconds_received

    def feed(self, samples: np.ndarray) -> None:
        """Add samples (float32 mono at params.sample_rate_hz) without judging them: a whole
        clip is fed, then judged once by finish() (a staged session looks its hashes up then)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        started = time.perf_counter()
        hashes = self._fingerprinter.push(samples)
        self.timings.fingerprint_s += time.perf_counter() - started
        self._vote(self._first_step(hashes))
        if (
            self._stretches
            and not self._stretches_done
            and self._fingerprinter.frames_done - self._stretched_frames
            >= SPEED_SEARCH_EVERY_S * self.params.frames_per_s
        ):
            self._advance_stretches(final=False)

    def push(self, samples: np.ndarray) -> RecognitionResult:
        """Add samples (float32 mono at params.sample_rate_hz); return the answer so far."""
        if self._staged:
            raise ValueError("a staged session is fed whole and finished, not pushed")
        self.feed(samples)
        # Only the best candidate is described until the answer is given: describing every
        # candidate on every push (a Match each, and a query for each new song) was a fifth
        # of a live stream's matching time.
        with self._with_tail():
            result = self.result(top_only=True)
        if (
            result.match is None
            and not self._stretches
            and self._factors
            and self.seconds >= self.service.speed_search_after_s
        ):
            self._start_stretches(final=False)
            with self._with_tail():
                result = self.result(top_only=True)
        previous, self._last_match = self._last_match, result.match
        if result.match is not None and (
            self._answered_by_speed or result.match.rule_margin >= self.service.live_confirm_margin
        ):
            # found by the speed search, whose own rule is stricter, or clear of the rule's
            # bar by live_confirm_margin: nothing to wait for
            result.confirmed = True
        elif result.match is not None and previous is not None:
            tolerance_s = float(frames_to_seconds(self.service.tolerance_frames, self.params))
            result.confirmed = (
                previous.song_id == result.match.song_id
                and abs(previous.offset_seconds - result.match.offset_seconds) <= tolerance_s + 1e-6
                and result.match.confidence > previous.confidence
            )
        if result.confirmed:
            with self._with_tail():
                result = dataclasses.replace(self.result(), confirmed=True)
                self._fit_speed_ratio(result)
        return result

    @contextlib.contextmanager
    def _with_tail(self):
        """Within it, a live session holds the hashes its fingerprinter has not finalised yet,
        as if the stream ended now; it is left as it was.

        An anchor is paired only once its whole target zone (target_dt_max_frames, 1.28 s)
        has arrived, so at 2 s of audio only the first 0.7 s of anchors have hashes: judged
        on those alone, phone-quality streams of the benchmark's music were answered after a
        median 3.5 s, judged with their tail after 2.5 s (32 streams, none wrong).
        """
        if not self._live or self.finished:
            yield
            return
        saved = (self._fingerprinter, self._tally, self._drawn, self.query_hashes, self._occupied)
        started = time.perf_counter()
        probe = copy.deepcopy(self._fingerprinter)
        tail = probe.flush()
        self.timings.fingerprint_s += time.perf_counter() - started
        self._fingerprinter, self._tally, self._drawn = probe, copy.deepcopy(self._tally), list(self._drawn)
        self._occupied = None
        try:
            self._vote(tail)
            yield
        finally:
            # the probe's peaks near its end are provisional: its occupancy is not kept
            self._fingerprinter, self._tally, self._drawn, self.query_hashes, self._occupied = saved

    def finish(self) -> RecognitionResult:
        """End of the stream: count the hashes still pending and return the final answer."""
        if not self.finished:
            started = time.perf_counter()
            hashes = self._fingerprinter.flush()
            self.timings.fingerprint_s += time.perf_counter() - started
            self.finished = True
            self._vote(self._first_step(hashes))
            if self._stretches:
                self._advance_stretches(final=True)
        result = self.result()
        if self._held_back:
            # the first step's answer is kept only when it clears its bar staged_margin times
            held_back, self._held_back = Hashes.concat(self._held_back), []
            if result.match is None or result.match.rule_margin < self.service.staged_margin:
                self._vote(held_back)
                result = self.result()
            else:
                self._skipped = held_back  # for the speed_ratio fit, should it need more pairs
                self.query_hashes += len(held_back)  # made, if not looked up
                result.query_hashes = self.query_hashes
        if result.match is None and not self._stretches and self._factors:
            self._start_stretches(final=True)
            result = self.result()
        result.confirmed = result.match is not None
        if result.confirmed:
            self._fit_speed_ratio(result)
        return result

    def _start_stretches(self, *, final: bool) -> None:
        """Start the speed search with every factor, on the peaks heard so far."""
        self._stretches = [_Stretch(factor, self.params) for factor in self._factors]
        self._advance_stretches(final=final)

    def _advance_stretches(self, *, final: bool) -> None:
        """Stretch and pair the query's new peaks at every factor; one lookup for all of their hashes.

        Only the peaks of the first speed_search_max_s are searched; once they are all
        final, the stretches are paired to their end (as a clip of that length would be)."""
        if self._stretches_done:
            return
        started = time.perf_counter()
        limit_frames = seconds_to_frames(self.service.speed_search_max_s, self.params)
        frames_done = min(self._fingerprinter.frames_done, limit_frames)
        self._stretches_done = final or frames_done >= limit_frames
        peaks = self._fingerprinter.peaks()
        new = [
            stretch.peaks.push(peaks, frames_done=frames_done, final=self._stretches_done)
            for stretch in self._stretches
        ]
        self._stretched_frames = self._fingerprinter.frames_done
        fingerprinted = time.perf_counter()
        self.timings.fingerprint_s += fingerprinted - started
        wanted = [hashes.hashes for hashes in new if len(hashes)]
        if not wanted:
            return
        db_hashes, db_songs, db_offsets = selectors.fingerprint_rows(np.concatenate(wanted))
        looked_up = time.perf_counter()
        self.timings.lookup_s += looked_up - fingerprinted
        best: dict[int, tuple[Candidate, _Stretch]] = {}
        for stretch, hashes in zip(self._stretches, new, strict=False):
            stretch.vote(hashes, db_hashes, db_songs, db_offsets)
            for candidate in stretch.tally.candidates(
                top_n=self.top_n, tolerance_frames=self.service.tolerance_frames
            ):
                if (
                    candidate.song_id not in best
                    or candidate.aligned_votes > best[candidate.song_id][0].aligned_votes
                ):
                    best[candidate.song_id] = (candidate, stretch)
        self._speed = sorted(best.values(), key=lambda entry: (-entry[0].aligned_votes, entry[0].song_id))
        self.timings.align_s += time.perf_counter() - looked_up

    def _speed_decision(self, candidates: list[Candidate]) -> Decision:
        """The no-match rule for the speed search's best song: its own bar and margin, and the
        runner-up taken over every speed and the unstretched query."""
        top = self._speed[0][0]
        others = [entry[0].aligned_votes for entry in self._speed[1:]]
        others += [c.aligned_votes for c in candidates if c.song_id != top.song_id]
        runner_up = Candidate(-1, 0, max(others, default=0))
        return decide(
            [top, runner_up],
            min_aligned_votes=self.service.speed_search_min_votes,
            min_margin=self.service.speed_search_margin,
        )

    def _fit_speed_ratio(self, result: RecognitionResult) -> None:
        """Replace the answer's speed_ratio by the one its matched hashes show (a lookup at most)."""
        match, started, lookup_before_s = result.match, time.perf_counter(), self.timings.lookup_s
        if self._answered_by_speed:
            stretch = self._speed[0][1]
            factor = stretch.factor
            query_frames, song_frames = self._looked_up_pairs(Hashes.concat(stretch.hashes), match.song_id)
        else:
            # the rows the query's hashes drew are at hand: no second lookup
            factor, query_frames, song_frames = 1.0, *self._song_pairs(match.song_id)
        # the stretched query's frame t is the clip's frame t / factor: its song frame is
        # about factor * t + the offset the answer was found at
        near = (factor, match.offset_seconds * self.params.frames_per_s)
        fit = fit_time_ratio(query_frames / factor, song_frames, near=near)
        if (
            fit is not None
            and self._skipped is not None  # named by its first step, so unstretched (factor 1)
            and UNCHANGED_WITHIN <= abs(fit.ratio - factor) <= fit.resolution
        ):
            # The first step's pairs hint at a change they cannot resolve: the held-back
            # hashes' rows of this song alone give the fit the clip's every pair.
            more = self._looked_up_pairs(self._skipped, match.song_id)
            fit = fit_time_ratio(
                np.concatenate([query_frames, more[0]]), np.concatenate([song_frames, more[1]]), near=near
            )
        # the fit is part of matching: its time counts (the lookups' is counted above)
        self.timings.align_s += time.perf_counter() - started - (self.timings.lookup_s - lookup_before_s)
        if fit is None:
            return
        # Keep the factor the answer was found at (1.0 unstretched) unless the clip is long
        # enough to tell the fitted ratio from it.
        ratio = round(fit.ratio, 3) if abs(fit.ratio - factor) > fit.resolution else factor
        if abs(ratio - 1.0) < UNCHANGED_WITHIN:
            ratio = 1.0
        result.match = dataclasses.replace(match, speed_ratio=ratio)
        result.matches = [result.match, *result.matches[1:]]

    def _looked_up_pairs(self, hashes: Hashes, song_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(query frame, song frame) of every hash of hashes in song_id's rows, looked up for
        that song alone."""
        started = time.perf_counter()
        db_hashes, _, db_offsets = selectors.fingerprint_rows(hashes.hashes, song_id=song_id)
        self.timings.lookup_s += time.perf_counter() - started
        return matched_pairs(hashes.hashes, hashes.offsets_frames, db_hashes, db_offsets)

    def _song_pairs(self, song_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(query frame, song frame) of every hash the query shares with song_id's rows, from
        the rows each vote drew (each batch of hashes drew every row of its values once)."""
        query_frames, song_frames = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for hashes, (db_hashes, db_songs, db_offsets) in self._drawn:
            mine = db_songs == song_id
            pairs = matched_pairs(hashes.hashes, hashes.offsets_frames, db_hashes[mine], db_offsets[mine])
            query_frames.append(pairs[0])
            song_frames.append(pairs[1])
        return np.concatenate(query_frames), np.concatenate(song_frames)

    def _first_step(self, hashes: Hashes) -> Hashes:
        """The hashes a staged clip looks up first (each anchor's nearest targets); the rest
        are held back for the second step."""
        if not self._staged or len(hashes) == 0:
            return hashes
        first = hashes.target_ranks() < self.service.staged_first_targets
        self._held_back.append(hashes.select(~first))
        self._first.append(hashes.select(first))
        if not self.finished:
            return Hashes.concat([])
        first_step, self._first = Hashes.concat(self._first), []
        return first_step

    def _vote(self, hashes) -> None:
        if len(hashes) == 0:
            return
        self.query_hashes += len(hashes)
        started = time.perf_counter()
        db_hashes, db_songs, db_offsets = self._rows(hashes.hashes)
        self._drawn.append((hashes, (db_hashes, db_songs, db_offsets)))
        looked_up = time.perf_counter()
        self._tally.add(offset_votes(hashes.hashes, hashes.offsets_frames, db_hashes, db_songs, db_offsets))
        self.timings.lookup_s += looked_up - started
        self.timings.align_s += time.perf_counter() - looked_up

    def _rows(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """selectors.fingerprint_rows, through a live session's memory of its last lookup: the
        hashes of a tail judged before they were final come again once they are final, and
        are not looked up again."""
        if not self._live:
            return selectors.fingerprint_rows(hashes)
        wanted = np.unique(hashes)
        keys, rows = self._recent
        known = np.isin(wanted, keys)
        fetched = selectors.fingerprint_rows(wanted[~known])
        from_memory = np.isin(rows[0], wanted[known])
        found = tuple(np.concatenate([old[from_memory], new]) for old, new in zip(rows, fetched, strict=True))
        self._recent = (wanted, found)
        return found

    def _load_songs(self, song_ids: Iterable[int]) -> None:
        """Read the songs not read yet in one query, with their peaks when verification is on:
        for verifying and describing alike (a deleted song's peaks are None, and it is not
        described)."""
        missing = set(song_ids) - set(self._song_peaks)
        if not missing:
            return
        started = time.perf_counter()
        songs = selectors.songs_by_id(missing, with_peaks=self.service.verify)
        self.timings.lookup_s += time.perf_counter() - started
        self._songs.update(songs)
        for song_id in missing:
            data = bytes(songs[song_id].peaks) if song_id in songs and self.service.verify else b""
            self._song_peaks[song_id] = unpack_peaks(data) if data else None

    def _verify(self, candidates: list[Candidate]) -> list[float] | None:
        """The verification z of each candidate (engine.verify), or None when verification is
        off or a candidate's song has no stored peaks (catalogued before they were kept)."""
        if not candidates or not self.service.verify:
            return None
        self._load_songs(c.song_id for c in candidates)
        song_peaks = [self._song_peaks[c.song_id] for c in candidates]
        if any(peaks is None for peaks in song_peaks):
            return None
        n_frames = self._fingerprinter.frames_done
        if self._occupied is None or self._occupied.shape[0] != n_frames:
            peaks = self._fingerprinter.peaks()
            self._occupied = occupancy(
                peaks.frames,
                peaks.bins,
                n_frames=n_frames,
                n_bins=self.params.window // 2 + 1,
                dt_frames=self.service.verify_tolerance_frames,
                df_bins=self.service.verify_tolerance_bins,
            )
        occupied = self._occupied
        return [
            verify(occupied, frames, bins, offset_frames=c.offset_frames).z
            for c, (frames, bins) in zip(candidates, song_peaks, strict=True)
        ]

    def _hypotheses(self, min_votes: int) -> tuple[list[Candidate] | None, list[float] | None]:
        """The best-verifying alignment of each of the verify_songs songs with most votes, and
        its z; None, None when there is none to weigh or verification cannot run.

        Each song is tried at its verify_offsets best alignments with at least min_votes
        votes: a noisy clip's most voted alignment of the right song is often a repeat, or
        chance, while its own place verifies (on the benchmark's phone clips the right song
        was the most voted in 99 % of 2 s clips, and named in 82 %).
        """
        tolerance = self.service.tolerance_frames
        alignments = [
            alignment
            for song in self._tally.candidates(top_n=self.service.verify_songs, tolerance_frames=tolerance)
            for alignment in self._tally.song_offsets(
                song.song_id, top_n=self.service.verify_offsets, tolerance_frames=tolerance
            )
            if alignment.aligned_votes >= min_votes
        ]
        z_scores = self._verify(alignments) if alignments else None
        if z_scores is None:
            return None, None
        best: dict[int, tuple[Candidate, float]] = {}
        for alignment, z in zip(alignments, z_scores, strict=True):
            if alignment.song_id not in best or z > best[alignment.song_id][1]:
                best[alignment.song_id] = (alignment, z)
        return [entry[0] for entry in best.values()], [entry[1] for entry in best.values()]

    def _bunched(self, candidate: Candidate) -> str:
        """Why candidate's verified hits are too bunched to name it ("" when they are spread).

        Thirds of the query with no song peak do not count; two of the others (or the only
        one) must verify with z >= verify_min_part_z.  On the benchmark's clips this refused
        an unknown noisy 3 s clip named with 20 votes and z 3.2 whose hits were all in its
        middle third (thirds z 0.6, 3.2, 0.1), and none of 144 right answers with 30 votes
        or fewer (whose second-best third had z 1.9 at least, where the song had peaks).
        """
        min_z = self.service.verify_min_part_z
        if min_z <= 0 or self._verify([candidate]) is None:
            return ""
        frames, bins = self._song_peaks[candidate.song_id]
        parts = spread(self._occupied, frames, bins, offset_frames=candidate.offset_frames, parts=3)
        heard = [part for part in parts if part.probes]
        if sum(part.z >= min_z for part in heard) >= min(2, len(heard)):
            return ""
        return (
            f"{candidate.aligned_votes} aligned votes, but its verified peaks bunch in one part of "
            f"the clip (z by thirds {', '.join(f'{part.z:.1f}' for part in parts)})"
        )

    def _best_repeat(self, candidate: Candidate) -> Candidate:
        """candidate at the offset of its song that the query's peaks verify best, among the
        song's top_n alignments with the votes verification asks for.

        A song that repeats itself (loops, choruses) splits a query's votes over several
        offsets, and the most voted one is often not where the clip comes from: of 27 right
        answers more than 0.2 s off on the benchmark where the song does not play the same
        audio again, the true offset verified better in 20.  Exact repeats verify alike and
        keep the most voted offset.  The confidence stays the song's best alignment.
        """
        offsets = [
            c
            for c in self._tally.song_offsets(
                candidate.song_id, top_n=self.top_n, tolerance_frames=self.service.tolerance_frames
            )
            if c.aligned_votes >= self.service.verify_min_votes
        ]
        if len(offsets) < 2:
            return candidate
        z_scores = self._verify(offsets)
        if z_scores is None:
            return candidate
        best = offsets[int(np.argmax(z_scores))]  # the first, most voted, on ties
        return dataclasses.replace(candidate, offset_frames=best.offset_frames)

    def result(self, *, top_only: bool = False) -> RecognitionResult:
        """The answer so far; top_only: describe only the best candidate (matches has one entry at most)."""
        started, lookup_before_s = time.perf_counter(), self.timings.lookup_s
        candidates = self._tally.candidates(top_n=self.top_n, tolerance_frames=self.service.tolerance_frames)
        vote_rule = {
            "min_aligned_votes": self.service.min_aligned_votes,
            "min_margin": self.service.min_margin,
            "chance_votes_factor": self.service.chance_votes_factor,
            "total_votes": self._tally.total_votes,
        }
        decision = decide(candidates, **vote_rule)
        rule, z_scores, hypotheses, hypothesis_z = self.service.verification_rule, None, None, None
        if rule is not None and candidates:
            # the songs verified and described are read in one query
            self._load_songs(c.song_id for c in (candidates[:1] if top_only else candidates))
            # An answer of the vote rule only needs its own check; otherwise the songs with
            # most votes are weighed, each at its alignments with the votes verification asks for.
            if decision.is_match:
                z_scores = self._verify(candidates[:1])
            else:
                hypotheses, hypothesis_z = self._hypotheses(rule.min_votes)
            decision = decide(
                candidates,
                **vote_rule,
                z_scores=z_scores,
                verification=rule,
                hypotheses=hypotheses,
                hypothesis_z=hypothesis_z,
            )
        if decision.verified and hypotheses:
            named = hypotheses[decision.index]
            z_scores = _first(hypothesis_z, decision.index)
            candidates = [named, *(c for c in candidates if c.song_id != named.song_id)]
        ratios: dict[int, float] = {}
        self._answered_by_speed = False
        if not decision.is_match and self._speed:
            speed_decision = self._speed_decision(candidates)
            if speed_decision.is_match:
                decision = speed_decision
                self._answered_by_speed = True
                candidates = [entry[0] for entry in self._speed[: self.top_n]]
                ratios = {entry[0].song_id: entry[1].factor for entry in self._speed[: self.top_n]}
        if decision.is_match and not self._answered_by_speed and rule is not None:
            # judged at the alignment the rule named, as verify_reject_below_z is
            bunched = self._bunched(candidates[0])
            if bunched:
                decision = Decision(False, bunched)
            candidates = [self._best_repeat(candidates[0]), *candidates[1:]]
        # the peaks verification read are lookup time, already counted
        self.timings.align_s += time.perf_counter() - started - (self.timings.lookup_s - lookup_before_s)
        matches = self._describe(
            candidates,
            ratios,
            total_votes=self._tally.total_votes,
            speed=self._answered_by_speed,
            top_only=top_only,
        )
        if decision.verified and matches and matches[0].song_id == candidates[0].song_id:
            # named by its verification: its margin is over the verification's bar, not the votes'
            bar_z = max(rule.min_z, max(z_scores[1:], default=0.0) + rule.z_margin)
            margin = math.floor(z_scores[0] / bar_z * 1000) / 1000
            matches[0] = dataclasses.replace(matches[0], rule_margin=margin)
        named = decision.is_match and bool(matches)
        return RecognitionResult(
            match=matches[0] if named else None,
            matches=matches,
            query_hashes=self.query_hashes,
            seconds=self.seconds,
            timings=self.timings,
            reason=decision.reason or ("" if named else "the song was deleted from the catalogue meanwhile"),
        )

    def _rule_bars(
        self, candidates: list[Candidate], *, total_votes: int, speed: bool = False
    ) -> list[float]:
        """The aligned votes each candidate would need to be named: the two terms of decide()
        (of the speed search's rule for candidates it found)."""
        if speed:
            needed, margin = float(self.service.speed_search_min_votes), self.service.speed_search_margin
        else:
            needed = self.service.min_aligned_votes + self.service.chance_votes_factor * float(
                np.sqrt(max(total_votes, 0))
            )
            margin = self.service.min_margin
        votes = [candidate.aligned_votes for candidate in candidates]
        bars = []
        for index in range(len(votes)):
            strongest_other = max(votes[:index] + votes[index + 1 :], default=0)
            bars.append(max(needed, margin * strongest_other, 1e-9))
        return bars

    def _describe(
        self,
        candidates: list[Candidate],
        ratios: dict[int, float] | None = None,
        *,
        total_votes: int = 0,
        speed: bool = False,
        top_only: bool = False,
    ) -> list[Match]:
        bars = self._rule_bars(candidates, total_votes=total_votes, speed=speed)
        if top_only:
            candidates, bars = candidates[:1], bars[:1]
        self._load_songs(c.song_id for c in candidates)
        described = []
        for candidate, bar in zip(candidates, bars, strict=False):
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
                    speed_ratio=(ratios or {}).get(candidate.song_id, 1.0),
                    # Rounded down, so a candidate the rule refuses never shows 1.0.
                    rule_margin=math.floor(candidate.aligned_votes / bar * 1000) / 1000,
                    duration_s=round(song.duration_s, 3),
                    cover_url=song.cover_url,
                )
            )
        return described


def _first(items: list, index: int) -> list:
    """items with items[index] moved to the front."""
    return [items[index], *items[:index], *items[index + 1 :]]


def recognize_samples(samples: np.ndarray, **session_options) -> RecognitionResult:
    """Recognise a whole clip (float32 mono at the engine rate)."""
    session = ListeningSession(staged=True, **session_options)
    session.feed(samples)
    return session.finish()


def recognize_file(
    path, *, start_s: float = 0.0, seconds: float | None = None, **session_options
) -> RecognitionResult:
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
