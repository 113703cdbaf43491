"""Benchmark track lists on seeded hour-long mixes of the benchmark's real music.

    DATABASE_URL=mysql://root@127.0.0.1:3306/jamjar_bench python -m benchmarks.tracklist

Run benchmarks/benchmark.py first (with the same --corpus, --holdout and --seed): it builds
the catalogue this measures against, and its split says which tracks are catalogued and
which are unknown music.  Each mix joins 12-20 segments of 1-6 minutes, each played up to
3 % fast or slow, by 4-10 s crossfades, with unknown music between some songs; the last mix
also goes through the phone condition.  Each is written as a 44.1 kHz stereo MP3 and cut by
`manage.py tracklist` in a process of its own (its wall time and peak memory are measured),
then scored against the truth.  A 3-hour file (the first mix three times) measures memory
on a long recording, and the first mix fed one second at a time measures how soon a stream
names each song.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.scale import setup_django
from recognition.evaluation.corpus import collect, split_holdout

ROOT = Path(__file__).resolve().parents[1]

MIX_RATE_HZ = 22050  # the rate the evaluation degrades clips at (recognition.evaluation)
SEGMENTS = (12, 20)  # segments per mix, inclusive
SEGMENT_S = (60.0, 360.0)
UNKNOWN_SHARE = 0.25  # chance that unknown music comes before a song
SPEED_PERCENT = 3.0
CROSSFADE_S = (4.0, 10.0)
#: an unknown stretch is "labelled as a song" when songs cover this much of it, seconds,
#: outside the crossfades at its ends
LABELLED_S = 10.0


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "jamjar-bench-corpus"))
    parser.add_argument("--holdout", type=float, default=0.2, help="as benchmark.py: share of unknown tracks")
    parser.add_argument("--seed", type=int, default=42, help="as benchmark.py: the catalogue split")
    parser.add_argument("--mixes", type=int, default=2, help="mixes to build; the last one through the phone")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "jamjar-tracklist-bench"))
    parser.add_argument("--no-long", action="store_true", help="skip the 3-hour memory run")
    parser.add_argument(
        "--stream-only",
        action="store_true",
        help="only the stream's delays, on the first mix (about a minute)",
    )
    parser.add_argument(
        "--only",
        choices=("clean", "phone"),
        help="analyse only this mix (clean: the first, phone: the last); phone skips the stream and 3-hour runs",
    )
    parser.add_argument("--results", help="default bench-results/tracklist.json (tracklist-stream.json)")
    args = parser.parse_args()
    if args.results is None:
        name = "tracklist-stream.json" if args.stream_only else "tracklist.json"
        if args.only:
            name = f"tracklist-{args.only}.json"
        args.results = str(ROOT / "bench-results" / name)
    return args


@dataclass
class Part:
    """One segment of a mix, as it was made: boundaries are the middles of the crossfades."""

    path: str
    song_id: int | None
    start_s: float  # in the mix
    end_s: float
    crossfade_in_s: float
    crossfade_out_s: float
    track_start_s: float
    speed_percent: float


def plan_mix(tracks, *, minutes: float, rng) -> list[tuple]:
    """[(track, seconds of the track, start in the track, speed %, crossfade after)], seeded."""
    positives = [t for t in tracks if t.song_id is not None and t.duration_s >= SEGMENT_S[0]]
    negatives = [t for t in tracks if t.song_id is None and t.duration_s >= SEGMENT_S[0]]
    n_segments = int(rng.integers(SEGMENTS[0], SEGMENTS[1] + 1))
    lengths = rng.uniform(*SEGMENT_S, size=n_segments)
    lengths = np.clip(lengths * minutes * 60 / lengths.sum(), *SEGMENT_S)
    order = list(rng.permutation(len(positives)))
    unknown_order = list(rng.permutation(len(negatives)))
    plan, previous_unknown = [], True
    for index, length_s in enumerate(lengths):
        unknown = not previous_unknown and index < n_segments - 1 and rng.uniform() < UNKNOWN_SHARE
        pool, picks = (negatives, unknown_order) if unknown else (positives, order)
        if not picks:
            picks.extend(rng.permutation(len(pool)))
        # The next track long enough for the segment, else the longest left: game soundtracks
        # are often shorter than the segment drawn, and the mix should still last the hour.
        needed_s = length_s * (1 + SPEED_PERCENT / 100) + 1.5
        fits = [i for i in reversed(picks) if pool[i].duration_s >= needed_s]
        choice = fits[0] if fits else max(picks, key=lambda i: pool[i].duration_s)
        picks.remove(choice)
        track = pool[choice]
        seconds = min(float(length_s), track.duration_s / (1 + SPEED_PERCENT / 100) - 1.0)
        start_s = float(
            rng.uniform(0, max(0.0, track.duration_s - seconds * (1 + SPEED_PERCENT / 100) - 0.5))
        )
        plan.append((track, seconds, start_s, float(rng.uniform(-SPEED_PERCENT, SPEED_PERCENT)),
                     float(rng.uniform(*CROSSFADE_S))))  # fmt: skip
        previous_unknown = unknown
    return plan


def build_mix(plan) -> tuple[np.ndarray, list[Part]]:
    """The planned pieces laid end to end, each fading into the next over its crossfade."""
    from recognition.engine.audio import decode_file
    from recognition.evaluation.degrade import speed

    pieces, fades = [], []
    for index, (track, seconds, start_s, percent, fade_s) in enumerate(plan):
        audio = decode_file(
            track.path,
            sample_rate_hz=MIX_RATE_HZ,
            start_s=start_s,
            limit_s=seconds * (1 + percent / 100) + 0.2,
        )
        pieces.append(speed(audio, percent=percent)[: int(seconds * MIX_RATE_HZ)])
        if index < len(plan) - 1:
            fades.append(min(int(fade_s * MIX_RATE_HZ), len(pieces[-1]) // 4))
    fades_in = [0, *fades]
    fades_out = [*fades, 0]
    starts = np.cumsum([0] + [len(piece) - fade for piece, fade in zip(pieces[:-1], fades, strict=True)])
    samples = np.zeros(int(starts[-1]) + len(pieces[-1]), dtype=np.float32)
    for piece, start, fade_in, fade_out in zip(pieces, starts, fades_in, fades_out, strict=True):
        envelope = np.ones(len(piece), dtype=np.float32)
        envelope[:fade_in] = np.linspace(0, 1, fade_in, dtype=np.float32)
        if fade_out:
            envelope[-fade_out:] = np.linspace(1, 0, fade_out, dtype=np.float32)
        samples[start : start + len(piece)] += piece * envelope
    parts = [
        Part(
            path=track.path,
            song_id=track.song_id,
            start_s=(start + fade_in / 2) / MIX_RATE_HZ,
            end_s=(start + len(piece) - fade_out / 2) / MIX_RATE_HZ,
            crossfade_in_s=fade_in / MIX_RATE_HZ,
            crossfade_out_s=fade_out / MIX_RATE_HZ,
            track_start_s=start_s,
            speed_percent=percent,
        )
        for (track, _, start_s, percent, _), piece, start, fade_in, fade_out in zip(
            plan, pieces, starts, fades_in, fades_out, strict=True
        )
    ]
    return samples, parts


def write_mp3(samples: np.ndarray, path: Path) -> None:
    """44.1 kHz stereo MP3 at 192 kbit/s, as a recording is usually kept."""
    from recognition.engine.audio import ffmpeg_executable, float_to_pcm16

    command = [
        ffmpeg_executable(),
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "s16le",
        "-ar",
        str(MIX_RATE_HZ),
    ]
    command += ["-ac", "1", "-i", "-", "-ar", "44100", "-ac", "2", "-b:a", "192k", str(path)]
    subprocess.run(command, input=float_to_pcm16(np.clip(samples, -1, 1)), check=True)


# Runs the command and reports its own peak memory: VmHWM starts afresh at exec, while the
# rusage of a child forked from this (large) process would count the parent's pages too.
PEAK_WRAPPER = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak_kb", line.split()[1], file=sys.stderr)
"""


def run_command(path: Path, database_url: str) -> tuple[dict, float, int]:
    """`manage.py tracklist PATH --json` in its own process: (answer, wall seconds, peak RSS bytes
    of that process; the ffmpeg decoder it runs is not counted)."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "jamjar_site.settings"}
    env.setdefault("SECRET_KEY", "benchmark-only-key")
    command = [sys.executable, "-c", PEAK_WRAPPER, str(ROOT / "manage.py"), "tracklist", str(path), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"tracklist {path} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    peak_kb = [
        int(line.split()[1]) for line in done.stderr.decode().splitlines() if line.startswith("peak_kb")
    ]
    return json.loads(done.stdout), wall_s, peak_kb[-1] * 1024


def score(parts: list[Part], segments: list[dict]) -> dict:
    """Catalogued parts found, boundary errors, unknown stretches labelled as songs, speed errors."""
    found, ratio_errors = 0, []
    for part in (p for p in parts if p.song_id is not None):
        covering = [
            s
            for s in segments
            if s["song"] and s["song"]["song_id"] == part.song_id
            and min(s["end_s"], part.end_s) - max(s["start_s"], part.start_s) >= 0.5 * (part.end_s - part.start_s)
        ]  # fmt: skip
        if covering:
            found += 1
            best = max(covering, key=lambda s: min(s["end_s"], part.end_s) - max(s["start_s"], part.start_s))
            ratio_errors.append(abs(best["speed_ratio"] - (1 + part.speed_percent / 100)))
    boundaries = boundary_rows(parts, segments)
    boundary_errors = [abs(row["error_s"]) for row in boundaries]
    labelled, wrong_song_s = 0, 0.0
    for part in parts:
        inner = (part.start_s + part.crossfade_in_s / 2, part.end_s - part.crossfade_out_s / 2)
        covered = {}
        for s in segments:
            if s["song"] is None:
                continue
            overlap = min(s["end_s"], inner[1]) - max(s["start_s"], inner[0])
            if overlap > 0:
                covered[s["song"]["song_id"]] = covered.get(s["song"]["song_id"], 0.0) + overlap
        if part.song_id is None and sum(covered.values()) >= LABELLED_S:
            labelled += 1
        wrong_song_s += sum(v for k, v in covered.items() if k != part.song_id)
    n_known = sum(p.song_id is not None for p in parts)
    return {
        "parts": len(parts),
        "catalogued_parts": n_known,
        "unknown_parts": len(parts) - n_known,
        "found": found,
        "found_percent": 100.0 * found / n_known if n_known else None,
        "boundary_error_median_s": float(np.median(boundary_errors)) if boundary_errors else None,
        "boundary_error_p95_s": float(np.percentile(boundary_errors, 95)) if boundary_errors else None,
        "unknown_labelled_as_song": labelled,
        "wrong_song_seconds": round(wrong_song_s, 1),
        "speed_ratio_error_median": float(np.median(ratio_errors)) if ratio_errors else None,
        "speed_ratio_within_0_5_percent": float(np.mean(np.array(ratio_errors) <= 0.005))
        if ratio_errors
        else None,
        "segments_reported": len(segments),
        "boundaries": boundaries,
    }


def boundary_rows(parts: list[Part], segments: list[dict]) -> list[dict]:
    """Each true boundary (the middle of a crossfade) with the songs on its sides (None: unknown),
    their speeds, the crossfade, and the signed error of the nearest reported boundary (seconds;
    positive: reported late)."""
    predicted = np.array([s["start_s"] for s in segments[1:]])
    rows = []
    for before, after in itertools.pairwise(parts):
        nearest = predicted[np.argmin(np.abs(predicted - after.start_s))] if len(predicted) else np.inf
        rows.append(
            {
                "at_s": round(after.start_s, 2),
                "before": before.song_id,
                "after": after.song_id,
                "before_speed_percent": round(before.speed_percent, 2),
                "after_speed_percent": round(after.speed_percent, 2),
                "crossfade_s": round(after.crossfade_in_s, 2),
                "error_s": float(nearest - after.start_s),
            }
        )
    return rows


def stream_latency(path: Path, parts: list[Part]) -> dict:
    """Feed the mix one second at a time, as a stream arrives: seconds from each catalogued
    part's start (the middle of its crossfade in) until a confirmed run names its song."""
    from tracklists import services

    analyser = services.new_analyser(live=True)
    named: dict[int, float] = {}  # part index -> seconds of audio when its song was confirmed
    for chunk in services.audio_chunks(path, sample_rate_hz=analyser.params.sample_rate_hz):
        for offset in range(0, len(chunk), analyser.params.sample_rate_hz):
            analyser.push(chunk[offset : offset + analyser.params.sample_rate_hz])
            for run in [*analyser.open_runs, *analyser.closed_runs]:
                if not run.confirmed:
                    continue
                for index, part in enumerate(parts):
                    if (
                        index not in named
                        and part.song_id == run.song_id
                        and part.start_s - part.crossfade_in_s <= run.start_s <= part.end_s
                    ):
                        named[index] = analyser.seconds
    delays = [named[i] - parts[i].start_s for i in named]
    return {
        "catalogued_parts": sum(p.song_id is not None for p in parts),
        "named": len(named),
        "delay_median_s": float(np.median(delays)) if delays else None,
        "delay_p95_s": float(np.percentile(delays, 95)) if delays else None,
        "delay_max_s": float(np.max(delays)) if delays else None,
    }


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "mysql://root@127.0.0.1:3306/jamjar_bench")
    setup_django(database_url)
    from recognition.evaluation import clips as evaluation
    from recognition.evaluation import degrade

    known_paths, _ = split_holdout(collect(args.corpus), holdout=args.holdout, seed=args.seed)
    scan = evaluation.find_tracks(args.corpus)
    if not any(t.song_id is not None for t in scan.tracks):
        sys.exit(
            "no catalogued track in the corpus: run benchmarks/benchmark.py first, with the same --corpus"
        )
    print(
        f"{sum(t.song_id is not None for t in scan.tracks)} catalogued tracks, "
        f"{sum(t.song_id is None for t in scan.tracks)} unknown ({len(known_paths)} in the split's catalogued share)",
        flush=True,
    )
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {"mixes": []}
    first_mix = None
    for index in range(1 if args.stream_only else args.mixes):
        rng = np.random.default_rng(args.seed * 1000 + index)
        condition = "phone" if index == args.mixes - 1 and args.mixes > 1 else "clean"
        if args.only is not None and (condition != args.only or (condition == "clean" and index > 0)):
            continue
        path = work / f"mix-{index}-{condition}-{args.minutes:g}min-seed{args.seed}.mp3"
        truth_path = path.with_suffix(".json")
        if truth_path.exists() and path.exists():  # made by an earlier run with the same arguments
            truth = json.loads(truth_path.read_text())
            parts, duration_s = [Part(**part) for part in truth["parts"]], truth["duration_s"]
        else:
            samples, parts = build_mix(plan_mix(scan.tracks, minutes=args.minutes, rng=rng))
            if condition != "clean":
                samples = degrade.apply_condition(condition, samples, sample_rate_hz=MIX_RATE_HZ, rng=rng)
            write_mp3(samples, path)
            duration_s = len(samples) / MIX_RATE_HZ
            del samples
            truth_path.write_text(json.dumps({"duration_s": duration_s, "parts": [asdict(p) for p in parts]}))
        print(
            f"mix {index} ({condition}): {duration_s / 60:.1f} min, {len(parts)} parts; analysing ...",
            flush=True,
        )
        if args.stream_only:
            first_mix = (path, parts)
            break
        answer, wall_s, peak_bytes = run_command(path, database_url)
        scores = score(parts, answer["segments"])
        entry = {
            "condition": condition,
            "duration_s": duration_s,
            "wall_s": wall_s,
            "realtime_factor": duration_s / wall_s,
            "peak_rss_mb": peak_bytes / 1e6,
            **scores,
            "truth": [asdict(part) for part in parts],
            "segments": answer["segments"],
        }
        report["mixes"].append(entry)
        print(
            f"  found {scores['found']}/{scores['catalogued_parts']} ({scores['found_percent']:.1f} %), boundary "
            f"error median {scores['boundary_error_median_s']:.2f} s, p95 {scores['boundary_error_p95_s']:.2f} s, "
            f"unknown labelled as a song {scores['unknown_labelled_as_song']}/{scores['unknown_parts']}, "
            f"wrong-song seconds {scores['wrong_song_seconds']}, speed ratio within 0.5 % "
            f"{100 * (scores['speed_ratio_within_0_5_percent'] or 0):.0f} %; {duration_s / wall_s:.0f}x realtime, "
            f"peak {peak_bytes / 1e6:.0f} MB",
            flush=True,
        )
        for row in scores["boundaries"]:
            if abs(row["error_s"]) > 2.0:
                print(
                    f"    boundary at {row['at_s']:.1f} s, song {row['before'] or 'unknown'} -> "
                    f"{row['after'] or 'unknown'} "
                    f"({row['crossfade_s']:.1f} s crossfade): reported {row['error_s']:+.2f} s off",
                    flush=True,
                )
        if first_mix is None and args.only != "phone":
            first_mix = (path, parts)
    if first_mix is not None:
        print("stream latency (the first mix, one second at a time) ...", flush=True)
        report["stream"] = stream_latency(*first_mix)
        print(f"  {report['stream']}", flush=True)
    if first_mix is not None and not args.no_long and not args.stream_only:
        long_path = work / "three-hours.mp3"
        listing = work / "three-hours.txt"
        listing.write_text(f"file '{first_mix[0]}'\n" * 3)
        from recognition.engine.audio import ffmpeg_executable

        subprocess.run(
            [ffmpeg_executable(), "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i",
             str(listing), "-c", "copy", str(long_path)],
            check=True,
        )  # fmt: skip
        answer, wall_s, peak_bytes = run_command(long_path, database_url)
        report["three_hours"] = {
            "duration_s": answer["duration_s"],
            "wall_s": wall_s,
            "realtime_factor": answer["duration_s"] / wall_s,
            "peak_rss_mb": peak_bytes / 1e6,
        }
        print(f"3 hours: {report['three_hours']}", flush=True)
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(report, indent=1))
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
