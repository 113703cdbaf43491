"""Formatting recognition answers for people and for JSON, in one place."""

from __future__ import annotations

import dataclasses
import json

from .services import Match, RecognitionResult


def format_offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{int(seconds // 60)}:{seconds % 60:04.1f}"


def match_fields(match: Match) -> dict:
    """One candidate as JSON: every field of Match."""
    return dataclasses.asdict(match)


def answer(result: RecognitionResult, **door) -> dict:
    """The answer as JSON, the same for every door: `recognize --json` and `listen --json`
    print it, the API returns it, the websocket sends it.  door: what the door adds in front
    (file, total_time_s).  no_match_reason says why match is null ("" with a match)."""
    best = result.match
    return {
        **door,
        "match": match_fields(best) if best else None,
        "matches": [match_fields(m) for m in result.matches],
        "match_time_s": round(result.timings.total_s, 6),
        "seconds": round(result.seconds, 3),
        "query_hashes": result.query_hashes,
        "timings": {
            "fingerprint_s": round(result.timings.fingerprint_s, 6),
            "lookup_s": round(result.timings.lookup_s, 6),
            "align_s": round(result.timings.align_s, 6),
            "total_s": round(result.timings.total_s, 6),
        },
        "no_match_reason": "" if best else result.reason,
    }


def result_line(*, file: str | None, result: RecognitionResult, total_time_s: float) -> str:
    """One JSON object per input, as `recognize --json` prints it."""
    return json.dumps(answer(result, file=file, total_time_s=round(total_time_s, 6)), ensure_ascii=False)


def error_line(*, file: str, error: str) -> str:
    return json.dumps({"file": file, "error": error, "match": None, "matches": []}, ensure_ascii=False)


def human(*, file: str, result: RecognitionResult, total_time_s: float | None) -> str:
    """A few lines for people; total_time_s (with decoding) is left out when None (a microphone)."""
    lines = [f"{file}:"]
    best = result.match
    if best:
        who = f"{best.artist} - {best.title}" if best.artist else best.title
        speed = f", played at {best.speed_ratio:.3f}x speed" if best.speed_ratio != 1.0 else ""
        lines.append(
            f"  match: {who} (song {best.song_id}) at {format_offset(best.offset_seconds)}, "
            f"confidence {best.confidence}, score {best.score:.2f}{speed}"
        )
    else:
        lines.append(f"  no match ({result.reason})")
    for rank, m in enumerate(result.matches, 1):
        who = f"{m.artist} - {m.title}" if m.artist else m.title
        lines.append(
            f"  {rank}. {who} (song {m.song_id}) at {format_offset(m.offset_seconds)}, confidence {m.confidence}"
        )
    with_decoding = f" ({total_time_s * 1000:.0f} ms with decoding)" if total_time_s is not None else ""
    lines.append(
        f"  {result.seconds:.1f} s of audio, {result.query_hashes} hashes, matched in "
        f"{result.timings.total_s * 1000:.1f} ms{with_decoding}"
    )
    return "\n".join(lines)
