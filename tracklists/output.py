"""A timeline as JSON, CSV and a CUE sheet: written here once for the command, the API and the page."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from .services import Timeline

CSV_FIELDS = [
    "start_s", "end_s", "song_id", "title", "artist", "song_start_s", "song_end_s", "speed_ratio", "confidence",
]  # fmt: skip


def timeline_dict(timeline: Timeline) -> dict:
    """{"file", "duration_s", "segments": [{"start_s", "end_s", "song": {...} | null, "song_start_s",
    "song_end_s", "speed_ratio", "confidence"}]} (README "Track lists")."""
    return {
        "file": timeline.file,
        "duration_s": timeline.duration_s,
        "segments": [asdict(segment) for segment in timeline.segments],
    }


def timeline_csv(timeline: Timeline) -> str:
    """One row per segment; an unknown stretch has empty song fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for segment in timeline.segments:
        song = segment.song
        writer.writerow(
            [
                segment.start_s,
                segment.end_s,
                song.song_id if song else "",
                song.title if song else "",
                song.artist if song else "",
                "" if segment.song_start_s is None else segment.song_start_s,
                "" if segment.song_end_s is None else segment.song_end_s,
                "" if segment.speed_ratio is None else segment.speed_ratio,
                segment.confidence,
            ]
        )
    return out.getvalue()


def cue_time(seconds: float) -> str:
    """MM:SS:FF, FF in 1/75 s (CD frames), as CUE sheets write an index."""
    frames = int(round(seconds * 75))
    minutes, rest = divmod(frames, 75 * 60)
    return f"{minutes:02d}:{rest // 75:02d}:{rest % 75:02d}"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def timeline_cue(timeline: Timeline) -> str:
    """A CUE sheet: one track per segment, unknown stretches titled "Unknown"."""
    lines = [f"TITLE {_quoted(timeline.file)}", f"FILE {_quoted(timeline.file)} WAVE"]
    for number, segment in enumerate(timeline.segments, start=1):
        song = segment.song
        lines.append(f"  TRACK {number:02d} AUDIO")
        lines.append(f"    TITLE {_quoted(song.title if song else 'Unknown')}")
        if song and song.artist:
            lines.append(f"    PERFORMER {_quoted(song.artist)}")
        lines.append(f"    INDEX 01 {cue_time(segment.start_s)}")
    return "\n".join(lines) + "\n"


def format_clock(seconds: float) -> str:
    """H:MM:SS.s or M:SS.s, for people."""
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:04.1f}"


def timeline_text(timeline: Timeline) -> str:
    """The timeline as a table for a terminal."""
    lines = [f"{timeline.file}: {format_clock(timeline.duration_s)}, {len(timeline.segments)} segments"]
    for segment in timeline.segments:
        span = f"{format_clock(segment.start_s):>10} - {format_clock(segment.end_s):>10}"
        song = segment.song
        if song is None:
            lines.append(f"{span}  unknown")
            continue
        name = f"{song.artist} - {song.title}" if song.artist else song.title
        speed = f"  speed {segment.speed_ratio:.3f}" if segment.speed_ratio not in (None, 1.0) else ""
        lines.append(
            f"{span}  {name} (song {song.song_id}) from {format_clock(segment.song_start_s)}"
            f" to {format_clock(segment.song_end_s)}{speed}  confidence {segment.confidence}"
        )
    return "\n".join(lines)
