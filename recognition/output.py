"""Formatting recognition answers for people and for JSON, in one place."""

from __future__ import annotations

import json

from .services import RecognitionResult


def format_offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{int(seconds // 60)}:{seconds % 60:04.1f}"


def result_line(*, file: str, result: RecognitionResult, total_time_s: float) -> str:
    """One JSON object per input, as `recognize --json` prints it."""
    best = result.match
    return json.dumps(
        {
            "file": file,
            "match": best.as_dict() if best else None,
            "matches": [m.as_dict() for m in result.matches],
            "match_time_s": round(result.timings.total_s, 6),
            "total_time_s": round(total_time_s, 6),
            "seconds": round(result.seconds, 3),
            "query_hashes": result.query_hashes,
            "timings": result.timings.as_dict(),
        },
        ensure_ascii=False,
    )


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
