"""Cutting a long recording into songs and unknown stretches, from hash evidence as the audio arrives.

No Django here: the caller passes the catalogue lookup (catalog.selectors.fingerprint_rows).
The recording is fingerprinted once, as a stream; its hashes are looked up a block of a few
seconds at a time, and each block's best (song, offset) agreements become hits.  Hits of one
song that lie on one line song_time = ratio * recording_time + c join into a run; a run with
enough votes over more than one block is a song.  A stretch that nothing explains is probed
with the engine's speed search (the last few seconds stretched by each factor); a factor that
finds a song gets its own stretched stream, started back in the kept audio, for as long as
that song lasts.  Memory is the kept audio and the open runs, whatever the recording's length.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from recognition.engine.matching import OffsetTally, matched_pairs, offset_votes
from recognition.engine.params import FingerprintParams
from recognition.engine.resample import StreamResampler
from recognition.engine.speed import stretch_factors
from recognition.engine.stream import Hashes, StreamingFingerprinter

#: (hashes, song_id=None) -> (hash, song_id, offset_frames) of every catalogue row holding one
#: of them (of that song only, given one), as catalog.selectors.fingerprint_rows
Lookup = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TimelineSettings:
    """How evidence becomes segments.  Seconds are of the recording unless named otherwise."""

    #: hashes are looked up and voted on in blocks of this much audio
    block_s: float = 3.0
    #: votes are counted within +- this many frames of an offset
    tolerance_frames: int = 1
    #: a block's (song, offset) is a hit with at least this many aligned votes
    min_block_votes: int = 5
    #: a run is a song with at least this many votes, over at least min_run_blocks hits
    min_run_votes: int = 30
    min_run_blocks: int = 2
    #: a run goes on over at most this much audio without a hit
    join_gap_s: float = 20.0
    #: a hit joins a run when its song time is within this of the run's line ...
    join_tolerance_s: float = 0.4
    #: ... plus this share of the time since the run's last hit (the ratio is not known exactly)
    join_drift: float = 0.01
    #: gaps between two songs up to this long are split in the middle; longer ones are unknown
    bridge_s: float = 8.0
    #: one song on both sides of at most this much unexplained audio is one segment
    rejoin_gap_s: float = 120.0
    #: the speed search: audio without a hit for probe_after_s is probed, probe_s of it, at most
    #: every probe_every_s, with factors 1 +- k * speed_step_percent % up to speed_percent %
    probe_after_s: float = 3.0
    probe_s: float = 6.0
    probe_every_s: float = 9.0
    #: ... and every live_probe_every_s on a live stream (TimelineAnalyser(live=True)): a play is
    #: due seconds after its song starts, and a sped-up song is named only by a probe that catches
    #: it, so the probe that came just too early (on the crossfade) must not wait 9 s for the next
    live_probe_every_s: float = 3.0
    #: a file's probes that keep failing (unknown music, a song noise hides) wait twice as long
    #: after each failure, up to probe_max_every_s; a successful probe or a hit starts again
    #: at probe_every_s.  At most 18 s, so the probe that names a song still finds its start
    #: in the history_s of kept audio.
    probe_max_every_s: float = 18.0
    speed_percent: float = 5.0
    speed_step_percent: float = 1.0
    #: a probe names a (song, factor) with this many aligned votes and this margin over any other song
    speed_min_votes: int = 12
    speed_margin: float = 2.5
    #: audio kept for probes, and from where a stretched stream starts once a probe succeeds
    history_s: float = 24.0
    #: while one song plays steadily, blocks are looked up in that song's rows only (far fewer
    #: rows); when its votes per second fall below focus_keep of their usual level (it ends,
    #: or fades into another), the last focus_recheck_blocks are looked up again with every
    #: song, and so is every focus_full_every-th block
    focus_keep: float = 0.5
    focus_recheck_blocks: int = 4
    focus_full_every: int = 10
    #: fingerprint with the query density (more hashes: survives noise, costs lookups)
    query_density: bool = False
    #: a block's hits for one song: its best offset and up to repeat_offsets - 1 others (the
    #: repeats of a loop) with at least repeat_share of the best one's votes
    repeat_offsets: int = 3
    repeat_share: float = 0.5
    #: a fitted ratio this close to 1.0 is reported as 1.0
    unchanged_within: float = 0.0025


@dataclass(frozen=True)
class Segment:
    """A stretch of the recording: a song (song_id) or unknown music or silence (song_id None)."""

    start_s: float
    end_s: float
    song_id: int | None = None
    song_start_s: float | None = None
    song_end_s: float | None = None
    speed_ratio: float | None = None
    confidence: int = 0


@dataclass(frozen=True)
class Hit:
    """One block's agreement with one song: where it starts and ends in both timelines."""

    song_id: int
    start_s: float
    end_s: float
    song_start_s: float
    song_end_s: float
    votes: int
    #: recording time of each agreeing hash, float64 [shape=(votes,)]
    matched_s: np.ndarray = field(default_factory=lambda: np.zeros(0))


_run_ids = itertools.count(1)


@dataclass
class Run:
    """Hits of one song on one line: a song being played."""

    song_id: int
    id: int = field(default_factory=lambda: next(_run_ids))
    times_s: list[float] = field(default_factory=list)  # recording time of each hit's ends
    song_times_s: list[float] = field(default_factory=list)  # the same points in song time
    votes: int = 0
    hits: int = 0
    matched_s: list[np.ndarray] = field(default_factory=list)  # recording time of every agreeing hash
    level_per_s: float = 0.0  # agreeing hashes per second lately (a moving average over hits)
    #: enough votes over enough hits to be a song
    confirmed: bool = False
    closed: bool = False
    _edges_s: tuple[float, float] | None = None  # set on closing, when matched_s is let go

    def close(self) -> None:
        """No more hits: keep the edges, let the per-hash times go (memory stays flat)."""
        self._edges_s = self.edges_s()
        self.matched_s = []
        self.closed = True

    @property
    def start_s(self) -> float:
        return min(self.times_s)

    @property
    def end_s(self) -> float:
        return max(self.times_s)

    def ratio(self, *, min_span_s: float = 8.0) -> float:
        """How fast the song runs against the recording (1.03: played 3 % fast); 1.0 if too short to tell."""
        times = np.asarray(self.times_s)
        if len(times) < 2 or times.max() - times.min() < min_span_s:
            return 1.0
        return float(np.polyfit(times, np.asarray(self.song_times_s), 1)[0])

    def song_time_at(self, time_s: float) -> float:
        """Where in the song the run's line puts a recording time (never before the song's start)."""
        times, song_times = np.asarray(self.times_s), np.asarray(self.song_times_s)
        nearest = int(np.argmin(np.abs(times - time_s)))
        return max(0.0, float(song_times[nearest] + self.ratio() * (time_s - times[nearest])))

    def add(self, hit: Hit) -> None:
        self.times_s += [hit.start_s, hit.end_s]
        self.song_times_s += [hit.song_start_s, hit.song_end_s]
        self.votes += hit.votes
        self.hits += 1
        self.matched_s.append(hit.matched_s)

    def edges_s(self, *, bin_s: float = 0.5, window_s: float = 2.0) -> tuple[float, float]:
        """Where the song is heard from and to: the first and last time its agreeing hashes
        reach half their usual density.  Evidence starts while a song fades in, before it is
        the louder one (and lasts while it fades out), so the first and last hash are too wide."""
        if self._edges_s is not None:
            return self._edges_s
        times = np.sort(np.concatenate(self.matched_s)) if self.matched_s else np.zeros(0)
        if len(times) < 2 or times[-1] - times[0] < 2 * window_s:
            return self.start_s, self.end_s
        counts, bin_edges = np.histogram(times, bins=np.arange(times[0], times[-1] + bin_s, bin_s))
        width = max(1, int(round(window_s / bin_s)))
        density = np.convolve(counts, np.ones(width), mode="same")
        usual = np.median(density[density > 0])
        dense = np.flatnonzero(density >= usual / 2)
        return float(bin_edges[dense[0]]), float(bin_edges[dense[-1] + 1])

    def distance_s(self, hit: Hit) -> float:
        """How far the hit's song time lies from where this run's line predicts it."""
        return abs(self.song_time_at(hit.start_s) - hit.song_start_s)


class _Source:
    """The recording (factor 1) or the recording stretched by a factor, fingerprinted as a stream."""

    def __init__(self, factor: float, params: FingerprintParams, *, query: bool, start_sample: int) -> None:
        out_rate_hz = int(round(params.sample_rate_hz * factor))
        self.factor = out_rate_hz / params.sample_rate_hz
        self._resampler = (
            StreamResampler(params.sample_rate_hz, out_rate_hz)
            if out_rate_hz != params.sample_rate_hz
            else None
        )
        self._fingerprinter = StreamingFingerprinter(params, query=query)
        self._start_s = start_sample / params.sample_rate_hz
        self._frame_s = params.hop / params.sample_rate_hz
        self.last_hit_s = self._start_s

    def push(self, samples: np.ndarray, *, final: bool = False) -> Hashes:
        if self._resampler is not None:
            samples = self._resampler.push(samples)
            if final:
                samples = np.concatenate([samples, self._resampler.flush()])
        hashes = self._fingerprinter.push(samples)
        return Hashes.concat([hashes, self._fingerprinter.flush()]) if final else hashes

    def recording_s(self, frames: np.ndarray) -> np.ndarray:
        """Recording time of this source's frames (a stretched frame is 1/factor of a recording frame)."""
        return self._start_s + np.asarray(frames, dtype=np.float64) * self._frame_s / self.factor


class TimelineAnalyser:
    """Feed a recording (float32 mono at params.sample_rate_hz) with push(); finish() gives the segments.

    Runs are exposed as they are found (open_runs, closed_runs), so a live stream can record
    a play as soon as its run is confirmed; live=True probes more often for that (see
    live_probe_every_s), at some cost in speed, which a file has no reason to pay.
    """

    def __init__(
        self, params: FingerprintParams, settings: TimelineSettings, lookup: Lookup, *, live: bool = False
    ) -> None:
        self.params = params
        self.settings = settings
        self._live = live
        self._probe_every_s = settings.live_probe_every_s if live else settings.probe_every_s
        self._failed_probes = 0
        self._lookup = lookup
        self._sources = [_Source(1.0, params, query=settings.query_density, start_sample=0)]
        self._factors = stretch_factors(
            max_percent=settings.speed_percent, step_percent=settings.speed_step_percent
        )
        self._pending: list[tuple[_Source, Hashes]] = []
        self._pending_samples = 0
        self._history: deque[np.ndarray] = deque()
        self._history_samples = 0
        self._n_samples = 0
        self._last_hit_s = 0.0
        self._last_probe_s = -np.inf
        self.open_runs: list[Run] = []
        self.closed_runs: list[Run] = []  # accepted runs only; a live caller may empty it
        self._recent: deque[list[tuple[_Source, Hashes]]] = deque()  # the last blocks' hashes
        self._blocks = 0
        self.probes = 0
        self.lookups = 0

    @property
    def seconds(self) -> float:
        return self._n_samples / self.params.sample_rate_hz

    def push(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        block = int(self.settings.block_s * self.params.sample_rate_hz)
        while len(samples):
            room = block - self._pending_samples
            part, samples = samples[:room], samples[room:]
            self._keep(part)
            self._n_samples += len(part)
            for source in self._sources:
                self._pending.append((source, source.push(part)))
            self._pending_samples += len(part)
            if self._pending_samples >= block:
                self._vote(self._pending)
                self._pending, self._pending_samples = [], 0
                self._maybe_probe()
                self._close_stale()

    def finish(self) -> list[Segment]:
        """End of the recording: every pending hash is voted on, every run closed; the timeline."""
        for source in self._sources:
            self._pending.append((source, source.push(np.zeros(0, dtype=np.float32), final=True)))
        self._vote(self._pending)
        self._pending = []
        self._close_stale(everything=True)
        return assemble(self.closed_runs, duration_s=self.seconds, settings=self.settings)

    # --- evidence -------------------------------------------------------------------------

    def _vote(self, batches: list[tuple[_Source, Hashes]]) -> None:
        batches = [(source, hashes) for source, hashes in batches if len(hashes)]
        if not batches:
            return
        self._blocks += 1
        focus = self._focus()
        if focus is not None:
            hits = self._block_hits(batches, song_id=focus.song_id)
            rate = max((self._rate(hit) for _, hit in hits if hit.song_id == focus.song_id), default=0.0)
            if rate >= self.settings.focus_keep * focus.level_per_s:
                self._apply(hits)
                self._remember(batches)
                return
            # The song fades or ends: what else was heard lately, with every song this time
            # (its own hits there are counted already).
            for old in self._recent:
                self._apply([(s, h) for s, h in self._block_hits(old) if h.song_id != focus.song_id])
            self._recent.clear()
        self._apply(self._block_hits(batches))
        self._remember(batches)

    def _focus(self) -> Run | None:
        """The strongest confirmed run heard in the last two blocks, when all of them are of one
        song (a loop's repeats are runs of their own), unless a full look is due."""
        if self._blocks % self.settings.focus_full_every == 0:
            return None
        recent = [
            run
            for run in self.open_runs
            if run.confirmed and self.seconds - run.end_s <= 2 * self.settings.block_s + 2.0
        ]
        if not recent or len({run.song_id for run in recent}) > 1:
            return None
        strongest = max(recent, key=lambda run: run.level_per_s)
        return strongest if strongest.level_per_s > 0 else None

    def _remember(self, batches: list[tuple[_Source, Hashes]]) -> None:
        self._recent.append(batches)
        while len(self._recent) > self.settings.focus_recheck_blocks:
            self._recent.popleft()

    def _rate(self, hit: Hit) -> float:
        return hit.votes / max(self.settings.block_s, hit.end_s - hit.start_s)

    def _block_hits(
        self, batches: list[tuple[_Source, Hashes]], *, song_id: int | None = None
    ) -> list[tuple[_Source, Hit]]:
        """One lookup for the block's hashes (of one song's rows, given song_id); each source's hits."""
        rows = self._lookup(np.concatenate([hashes.hashes for _, hashes in batches]), song_id=song_id)
        self.lookups += 1
        by_source: dict[int, tuple[_Source, list[Hashes]]] = {}
        for source, hashes in batches:
            by_source.setdefault(id(source), (source, []))[1].append(hashes)
        return [
            (source, hit)
            for source, parts in by_source.values()
            for hit in self._hits(source, Hashes.concat(parts), rows)
        ]

    def _apply(self, hits: list[tuple[_Source, Hit]]) -> None:
        if hits:
            self._failed_probes = 0
        for source, hit in hits:
            self._place(hit)
            source.last_hit_s = max(source.last_hit_s, hit.end_s)
            self._last_hit_s = max(self._last_hit_s, hit.end_s)

    def _hits(self, source: _Source, hashes: Hashes, rows) -> list[Hit]:
        db_hashes, db_songs, db_offsets = rows
        tally = OffsetTally()
        tally.add(offset_votes(hashes.hashes, hashes.offsets_frames, db_hashes, db_songs, db_offsets))
        hits = []
        settings = self.settings
        tolerance = settings.tolerance_frames
        for candidate in tally.candidates(top_n=3, tolerance_frames=tolerance):
            if candidate.aligned_votes < settings.min_block_votes:
                break
            mine = db_songs == candidate.song_id
            query_frames, song_frames = matched_pairs(
                hashes.hashes, hashes.offsets_frames, db_hashes[mine], db_offsets[mine]
            )
            # Music that loops agrees with every repeat of its loop about as well, and which
            # one wins a block is chance: each repeat gets its hit, so that its line gathers
            # one hit a block (otherwise a looping song was confirmed only when two blocks
            # happened to pick the same repeat; 17.4 s after its start on the benchmark).
            least = max(settings.min_block_votes, settings.repeat_share * candidate.aligned_votes)
            repeats = [
                other
                for other in tally.song_offsets(
                    candidate.song_id, top_n=settings.repeat_offsets, tolerance_frames=tolerance
                )
                if other.offset_frames != candidate.offset_frames and other.aligned_votes >= least
            ]
            for agreement in [candidate, *repeats][: settings.repeat_offsets]:
                inliers = np.abs(song_frames - query_frames - agreement.offset_frames) <= tolerance
                if not inliers.any():
                    continue
                hits.append(self._hit(source, agreement, query_frames[inliers], song_frames[inliers]))
        return hits

    def _hit(self, source: _Source, agreement, query_frames: np.ndarray, song_frames: np.ndarray) -> Hit:
        """A hit from one (song, offset) agreement's matched hashes."""
        first, last = int(np.argmin(query_frames)), int(np.argmax(query_frames))
        matched_s = source.recording_s(query_frames)
        times_s = matched_s[[first, last]]
        song_times_s = song_frames[[first, last]] * (self.params.hop / self.params.sample_rate_hz)
        return Hit(
            song_id=agreement.song_id,
            start_s=float(times_s[0]),
            end_s=float(times_s[1]),
            song_start_s=float(song_times_s[0]),
            song_end_s=float(song_times_s[1]),
            votes=agreement.aligned_votes,
            matched_s=matched_s,
        )

    def _place(self, hit: Hit) -> None:
        """Add a hit to the open run of its song whose line it continues, else start a run."""
        settings = self.settings
        best, best_distance = None, np.inf
        for run in self.open_runs:
            if run.song_id != hit.song_id:
                continue
            gap_s = max(0.0, hit.start_s - run.end_s, run.start_s - hit.end_s)
            if gap_s > settings.join_gap_s:
                continue
            distance = run.distance_s(hit)
            allowed = settings.join_tolerance_s + settings.join_drift * (gap_s + hit.end_s - hit.start_s)
            if distance <= allowed and distance < best_distance:
                best, best_distance = run, distance
        if best is None:
            best = Run(song_id=hit.song_id)
            self.open_runs.append(best)
        best.add(hit)
        rate = self._rate(hit)
        best.level_per_s = rate if best.hits == 1 else 0.7 * best.level_per_s + 0.3 * rate
        # One hit can span many blocks: a stretched stream's first hit covers the kept audio.
        blocks = max(best.hits, (best.end_s - best.start_s) / settings.block_s)
        if blocks >= settings.min_run_blocks and best.votes >= settings.min_run_votes:
            best.confirmed = True

    def _close_stale(self, *, everything: bool = False) -> None:
        now_s = self.seconds
        still_open = []
        for run in self.open_runs:
            if everything or now_s - run.end_s > self.settings.join_gap_s + self.settings.history_s:
                run.close()
                if run.confirmed:
                    self.closed_runs.append(run)
            else:
                still_open.append(run)
        self.open_runs = still_open
        # A stretched stream ends with its song.
        self._sources = [
            source
            for source in self._sources
            if source.factor == 1.0 or now_s - source.last_hit_s <= self.settings.join_gap_s
        ]

    # --- the speed search -----------------------------------------------------------------

    def _keep(self, samples: np.ndarray) -> None:
        if not self._factors:
            return
        self._history.append(samples.copy())
        self._history_samples += len(samples)
        limit = int(self.settings.history_s * self.params.sample_rate_hz)
        while self._history and self._history_samples - len(self._history[0]) >= limit:
            self._history_samples -= len(self._history.popleft())

    def _probe_wait_s(self) -> float:
        """Seconds from one probe to the next: a live stream's never grow (a play is due soon)."""
        if self._live:
            return self._probe_every_s
        return min(self._probe_every_s * 2**self._failed_probes, self.settings.probe_max_every_s)

    def _maybe_probe(self) -> None:
        settings, now_s = self.settings, self.seconds
        if (
            not self._factors
            or now_s - self._last_hit_s < settings.probe_after_s
            or now_s - self._last_probe_s < self._probe_wait_s()
            or self._history_samples < settings.probe_s * self.params.sample_rate_hz
        ):
            return
        self._last_probe_s = now_s
        self.probes += 1
        kept = np.concatenate(self._history)
        probe = kept[-int(settings.probe_s * self.params.sample_rate_hz) :]
        active = {round(source.factor, 4) for source in self._sources}
        trials = []
        for factor in self._factors:
            source = _Source(factor, self.params, query=True, start_sample=0)
            if round(source.factor, 4) not in active:
                trials.append((source, source.push(probe, final=True)))
        trials = [(source, hashes) for source, hashes in trials if len(hashes)]
        if not trials:
            return
        db_hashes, db_songs, db_offsets = self._lookup(np.concatenate([h.hashes for _, h in trials]))
        self.lookups += 1
        best: dict[int, tuple[int, float]] = {}  # song -> (aligned votes, factor)
        for source, hashes in trials:
            tally = OffsetTally()
            tally.add(offset_votes(hashes.hashes, hashes.offsets_frames, db_hashes, db_songs, db_offsets))
            for candidate in tally.candidates(top_n=3, tolerance_frames=settings.tolerance_frames):
                if candidate.aligned_votes > best.get(candidate.song_id, (0, 0.0))[0]:
                    best[candidate.song_id] = (candidate.aligned_votes, source.factor)
        if not best:
            self._failed_probes += 1
            return
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        votes, factor = ranked[0][1]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0
        if votes < settings.speed_min_votes or votes < settings.speed_margin * runner_up:
            self._failed_probes += 1
            return
        self._failed_probes = 0
        # Start the stretched stream back where the kept audio begins, so the song's start is found.
        source = _Source(
            factor, self.params, query=settings.query_density, start_sample=self._n_samples - len(kept)
        )
        source.last_hit_s = now_s
        self._sources.append(source)
        # Looked up with every song: a focus on the song that just ended must not hide this one.
        self._apply(self._block_hits([(source, source.push(kept))]))


def assemble(runs: list[Run], *, duration_s: float, settings: TimelineSettings) -> list[Segment]:
    """The timeline from accepted runs: songs in order, overlaps cut in their middle, short gaps
    shared between their neighbours, longer ones unknown."""
    runs = sorted(runs, key=lambda run: run.start_s)
    # A run inside a stronger one is a repeat or a chance agreement within that song.
    kept: list[Run] = []
    for run in runs:
        inside = any(
            other is not run
            and other.start_s <= run.start_s
            and run.end_s <= other.end_s
            and other.votes >= run.votes
            and not _alike(other, run, keep=run)
            for other in runs
        )
        if not inside:
            kept.append(run)
    spans = [list(run.edges_s()) for run in kept]
    for index in range(1, len(spans)):
        previous, current = spans[index - 1], spans[index]
        if current[0] - previous[1] <= settings.bridge_s:  # a crossfade or a short gap: cut in the middle
            middle = min((previous[1] + current[0]) / 2, current[1])
            previous[1] = max(previous[0], middle)
            current[0] = middle
    if spans and spans[0][0] <= settings.bridge_s:
        spans[0][0] = 0.0
    if spans and duration_s - spans[-1][1] <= settings.bridge_s:
        spans[-1][1] = duration_s
    segments: list[Segment] = []
    cursor = 0.0
    for run, (start_s, end_s) in zip(kept, spans, strict=True):
        if end_s - start_s <= 0:
            continue
        if start_s - cursor > 1e-6:
            segments.append(Segment(start_s=cursor, end_s=start_s))
        ratio = run.ratio()
        if abs(ratio - 1.0) < settings.unchanged_within:
            ratio = 1.0
        segments.append(
            Segment(
                start_s=start_s,
                end_s=end_s,
                song_id=run.song_id,
                song_start_s=run.song_time_at(start_s),
                song_end_s=run.song_time_at(end_s),
                speed_ratio=round(ratio, 3),
                confidence=run.votes,
            )
        )
        cursor = end_s
    if duration_s - cursor > 1e-6 or not segments:
        segments.append(Segment(start_s=cursor, end_s=duration_s))
    return _join_repeats(segments, max_gap_s=settings.rejoin_gap_s)


def _alike(one: Run, other: Run, *, keep: Run) -> bool:
    """Two runs with the same span and votes (two repeats of a loop can be): each lies inside
    the other, and only the older (keep, when it is) must stay."""
    twins = (one.start_s, one.end_s, one.votes) == (other.start_s, other.end_s, other.votes)
    return twins and keep.id == min(one.id, other.id)


def _join_repeats(segments: list[Segment], *, max_gap_s: float) -> list[Segment]:
    """One segment for one song heard in a row: music that loops (game and dance tracks do)
    puts the same audio at several places of the song, so its hits fall on several lines and
    make several runs, side by side or around a stretch where noise hid it (up to max_gap_s of
    nothing agreeing).  A station or a DJ does not play one song twice within that time."""
    joined: list[Segment] = []
    for segment in segments:
        if segment.song_id is not None and joined:
            previous, gap = joined[-1], None
            if previous.song_id == segment.song_id:
                gap = []
            elif (
                previous.song_id is None
                and len(joined) > 1
                and joined[-2].song_id == segment.song_id
                and previous.end_s - previous.start_s <= max_gap_s
            ):
                gap = [joined.pop()]
            if gap is not None:
                first = joined.pop()
                strongest = max(first, segment, key=lambda s: s.confidence)
                joined.append(
                    Segment(
                        start_s=first.start_s,
                        end_s=segment.end_s,
                        song_id=segment.song_id,
                        song_start_s=first.song_start_s,
                        song_end_s=segment.song_end_s,
                        speed_ratio=strongest.speed_ratio,
                        confidence=first.confidence + segment.confidence,
                    )
                )
                continue
        joined.append(segment)
    return joined
