"""Seeded clips cut from real files, degraded and matched: shared by `evaluate` and `benchmark`.

Clips are cut from files at seeded random positions, degraded by a named condition
(degrade: "phone", "speed:+3", ...), resampled to the engine rate and matched through the
same ListeningSession as every other door.  Files in the catalogue are positives; files not in
it are negatives, whose every answer other than "no match" is a false positive.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from catalog import selectors
from catalog.bulk import DEFAULT_EXTENSIONS, find_audio_files
from recognition import conf, services
from recognition.engine.audio import AudioDecodeError, decode_file, file_sha1
from recognition.engine.resample import resample

from . import degrade

# Clips are cut and degraded at this rate: it holds the 6 kHz phone band and lets a
# low-bitrate mp3 behave as it would on a real recording, before the engine's own rate.
ANALYSIS_RATE_HZ = 22050
OFFSET_TOLERANCE_S = 0.2
# A reported speed_ratio is right within this share of the true one (1.03 for "speed:+3").
SPEED_RATIO_TOLERANCE = 0.005
# An answer far from the clip's position still names the right place when the song plays
# the same audio there (loops, repeated choruses): normalised correlation at least this.
REPEAT_CORRELATION = 0.9
# Files outside the catalogue are decoded once, at this rate, only to learn their length.
DURATION_PROBE_RATE_HZ = 8000


@dataclass(frozen=True)
class Track:
    path: str
    song_id: int | None  # None: not in the catalogue (a negative)
    duration_s: float


@dataclass(frozen=True)
class ClipSpec:
    index: int
    path: str
    song_id: int | None
    start_s: float
    length_s: float
    condition: str


@dataclass(frozen=True)
class ClipOutcome(ClipSpec):
    """A clip and what the matcher answered for it."""

    predicted_song_id: int | None
    predicted_offset_s: float | None
    confidence: int  # aligned votes of the best candidate, matched or not
    runner_up: int  # aligned votes of the second song
    score: float
    query_hashes: int
    match_time_s: float
    error: str = ""
    best_song_id: int | None = None  # song of the best candidate, matched or not
    #: the answered offset is off by more than OFFSET_TOLERANCE_S, but the song repeats the
    #: clip's audio there (REPEAT_CORRELATION): a right place, not the one the clip was cut at
    offset_in_repeat: bool = False
    no_match_reason: str = ""
    #: how many times faster the clip's time runs than the song's (degrade.speed_ratio), and
    #: what the answer reported (Match.speed_ratio; 1.0 from an engine that reports none)
    expected_speed_ratio: float = 1.0
    predicted_speed_ratio: float | None = None

    @property
    def positive(self) -> bool:
        return self.song_id is not None

    @property
    def correct(self) -> bool:
        return self.positive and self.predicted_song_id == self.song_id

    @property
    def offset_ok(self) -> bool:
        return self.correct and abs(self.predicted_offset_s - self.start_s) <= OFFSET_TOLERANCE_S

    @property
    def offset_ok_or_repeat(self) -> bool:
        return self.offset_ok or (self.correct and self.offset_in_repeat)

    @property
    def speed_ratio_ok(self) -> bool:
        return (
            self.correct
            and self.predicted_speed_ratio is not None
            and abs(self.predicted_speed_ratio / self.expected_speed_ratio - 1.0) <= SPEED_RATIO_TOLERANCE
        )

    @property
    def false_positive(self) -> bool:
        return self.predicted_song_id is not None and not self.correct

    @property
    def offset_error_s(self) -> float | None:
        """Answered minus true start of a right answer; None otherwise."""
        return round(self.predicted_offset_s - self.start_s, 3) if self.correct else None

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "correct": self.correct,
            "offset_ok": self.offset_ok,
            "offset_ok_or_repeat": self.offset_ok_or_repeat,
            "speed_ratio_ok": self.speed_ratio_ok,
            "false_positive": self.false_positive,
            "offset_error_s": self.offset_error_s,
        }


@dataclass
class TrackScan:
    """The audio files of a folder, as tracks to cut clips from."""

    tracks: list[Track] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # same bytes as a file already taken
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), left out

    @property
    def positives(self) -> int:
        return sum(track.song_id is not None for track in self.tracks)

    @property
    def negatives(self) -> int:
        return sum(track.song_id is None for track in self.tracks)


def find_tracks(
    root: str | os.PathLike,
    *,
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
    on_file: Callable[[str], None] | None = None,
) -> TrackScan:
    """Every audio file below root: catalogued content (by SHA-1) is a positive, the rest negatives.

    A file's name plays no part, only its bytes: a re-encoded copy of a catalogued song is a
    negative.  Files with the same bytes are one track (the first in sorted order), so every
    song gets clips_per_song clips however many copies the folder holds.  Negatives are
    decoded once to learn their length; one that cannot be decoded is listed in failures.
    on_file is called as each file is hashed.  Raises FileNotFoundError if root is not a
    folder, services.CatalogueVersionMismatch (before reading any file) if the catalogue was
    made with other engine parameters.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root} is not a folder")
    services.check_catalogue_version(conf.fingerprint_params())
    scan = TrackScan()
    first_by_sha1: dict[str, str] = {}
    for path in find_audio_files(root, extensions=extensions):
        try:
            sha1 = file_sha1(path)
        except OSError as exc:
            scan.failures.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        if sha1 in first_by_sha1:
            scan.duplicates.append(path)
        else:
            first_by_sha1[sha1] = path
        if on_file:
            on_file(path)
    songs = selectors.songs_by_sha1(first_by_sha1)
    for sha1, path in first_by_sha1.items():
        if sha1 in songs:
            song_id, duration_s = songs[sha1]
            scan.tracks.append(Track(path, song_id, duration_s))
            continue
        try:
            samples = decode_file(path, sample_rate_hz=DURATION_PROBE_RATE_HZ)
        except AudioDecodeError as exc:
            scan.failures.append((path, str(exc)))
            continue
        scan.tracks.append(Track(path, None, len(samples) / DURATION_PROBE_RATE_HZ))
    return scan


def plan_clips(
    tracks: Iterable[Track],
    *,
    lengths_s: Iterable[float],
    conditions: Iterable[str],
    clips_per_song: int,
    padding_s: float,
    seed: int,
) -> list[ClipSpec]:
    """Seeded clip positions: the same arguments always give the same clips."""
    rng = np.random.default_rng(seed)
    specs: list[ClipSpec] = []
    for track in sorted(tracks, key=lambda t: t.path):
        for condition in conditions:
            for length_s in lengths_s:
                latest = track.duration_s - padding_s - length_s
                for _ in range(clips_per_song):
                    if latest >= padding_s:
                        start_s = float(rng.uniform(padding_s, latest))
                    elif track.duration_s >= length_s:  # short track: centre the clip
                        start_s = (track.duration_s - length_s) / 2
                    else:
                        continue
                    specs.append(
                        ClipSpec(
                            len(specs),
                            track.path,
                            track.song_id,
                            round(start_s, 3),
                            float(length_s),
                            condition,
                        )
                    )
    return specs


def run_clips(
    specs: list[ClipSpec],
    *,
    seed: int,
    condition_options: dict[str, dict] | None = None,
    on_clip: Callable[[ClipOutcome], None] | None = None,
    top_n: int = 5,
) -> list[ClipOutcome]:
    """Degrade and match every clip; each file is decoded once.

    A clip's condition is a label ("speed:-5") whose factor wins over condition_options.
    A clip lasts length_s as heard: under a condition that makes time run r times as fast
    ("speed", "tempo") it is cut r * length_s long from the song, and its truth stays the
    song's own time, start_s.  Raises services.CatalogueVersionMismatch before any work if
    the catalogue was made with other engine parameters.
    """
    params = conf.fingerprint_params()
    services.check_catalogue_version(params)
    condition_options = condition_options or {}
    by_path: dict[str, list[ClipSpec]] = defaultdict(list)
    for spec in specs:
        by_path[spec.path].append(spec)
    outcomes: list[ClipOutcome] = []
    for path, path_specs in by_path.items():
        audio = decode_file(path, sample_rate_hz=ANALYSIS_RATE_HZ)
        for spec in path_specs:
            name, options = degrade.condition_options(spec.condition, condition_options)
            time_ratio = degrade.speed_ratio(name, **options)
            start = int(spec.start_s * ANALYSIS_RATE_HZ)
            clip = audio[start : start + int(spec.length_s * time_ratio * ANALYSIS_RATE_HZ)]
            rng = np.random.default_rng([seed, spec.index])
            degraded = degrade.apply_condition(
                name, clip, sample_rate_hz=ANALYSIS_RATE_HZ, rng=rng, **options
            )
            samples = resample(degraded, in_rate_hz=ANALYSIS_RATE_HZ, out_rate_hz=params.sample_rate_hz)
            result = services.recognize_samples(samples, params=params, top_n=top_n, check_version=False)
            best = result.matches[0] if result.matches else None
            outcome = ClipOutcome(
                **asdict(spec),
                predicted_song_id=result.match.song_id if result.match else None,
                predicted_offset_s=result.match.offset_seconds if result.match else None,
                confidence=best.confidence if best else 0,
                runner_up=result.matches[1].confidence if len(result.matches) > 1 else 0,
                score=result.match.score if result.match else 0.0,
                query_hashes=result.query_hashes,
                match_time_s=result.timings.total_s,
                best_song_id=best.song_id if best else None,
                no_match_reason=result.reason if result.match is None else "",
                expected_speed_ratio=time_ratio,
                predicted_speed_ratio=float(getattr(result.match, "speed_ratio", 1.0))
                if result.match
                else None,
                offset_in_repeat=bool(
                    result.match
                    and result.match.song_id == spec.song_id
                    and abs(result.match.offset_seconds - spec.start_s) > OFFSET_TOLERANCE_S
                    and repeats_at(audio, clip, offset_s=result.match.offset_seconds)
                ),
            )
            outcomes.append(outcome)
            if on_clip:
                on_clip(outcome)
    outcomes.sort(key=lambda o: o.index)
    return outcomes


def repeats_at(audio: np.ndarray, clip: np.ndarray, *, offset_s: float) -> bool:
    """Whether audio holds clip again at offset_s (within +-OFFSET_TOLERANCE_S), by correlation."""
    slack = int(OFFSET_TOLERANCE_S * ANALYSIS_RATE_HZ)
    start = int(offset_s * ANALYSIS_RATE_HZ)
    region = audio[max(0, start - slack) : start + len(clip) + slack]
    if len(clip) == 0 or len(region) < len(clip):
        return False
    from scipy.signal import correlate

    clip = clip.astype(np.float64) - clip.mean()
    region = region.astype(np.float64)
    # Normalised cross-correlation at every lag: FFT for the products, running sums for
    # each window's mean and energy.
    products = correlate(region, clip, mode="valid", method="fft")
    sums = np.concatenate([[0.0], np.cumsum(region)])
    squares = np.concatenate([[0.0], np.cumsum(region**2)])
    n = len(clip)
    window_sum = sums[n:] - sums[:-n]
    window_energy = squares[n:] - squares[:-n] - window_sum**2 / n
    denominator = np.sqrt(np.maximum(window_energy, 0.0)) * np.linalg.norm(clip)
    correlation = products / np.where(denominator > 0, denominator, np.inf)
    return bool(correlation.max() >= REPEAT_CORRELATION)
