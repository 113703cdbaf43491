"""What clip outcomes add up to, per condition and length: the JSON's summary and the printed table."""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np

from .clips import OFFSET_TOLERANCE_S, SPEED_RATIO_TOLERANCE, ClipOutcome


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _right_answers(positives: list[ClipOutcome]) -> dict:
    """Top-1 accuracy of the positives, and the shares of their right answers at the right place
    (or a repeat of it) and with the right speed_ratio."""
    correct = [o for o in positives if o.correct]

    def share(flag: str) -> float | None:
        return sum(getattr(o, flag) for o in correct) / len(correct) if correct else None

    return {
        "accuracy": len(correct) / len(positives) if positives else None,
        "offset_ok": share("offset_ok"),
        "offset_ok_or_repeat": share("offset_ok_or_repeat"),
        "speed_ratio_ok": share("speed_ratio_ok"),
    }


def _false_positive_rate(negatives: list[ClipOutcome]) -> float | None:
    return sum(o.false_positive for o in negatives) / len(negatives) if negatives else None


def summarise(outcomes: list[ClipOutcome]) -> dict:
    """Accuracy per condition and length, offsets, false positives and match times."""
    cells: dict[tuple[str, float], list[ClipOutcome]] = defaultdict(list)
    for outcome in outcomes:
        cells[(outcome.condition, outcome.length_s)].append(outcome)
    rows = []
    for (condition, length_s), group in sorted(cells.items()):
        positives = [o for o in group if o.positive]
        negatives = [o for o in group if not o.positive]
        correct = [o for o in positives if o.correct]
        rows.append(
            {
                "condition": condition,
                "length_s": length_s,
                "positives": len(positives),
                **_right_answers(positives),
                "wrong_song": sum(o.false_positive for o in positives) / len(positives)
                if positives
                else None,
                "negatives": len(negatives),
                "false_positive_rate": _false_positive_rate(negatives),
                "median_match_ms": 1000 * statistics.median(o.match_time_s for o in group),
                "p95_match_ms": 1000 * _percentile([o.match_time_s for o in group], 95),
                "median_confidence_correct": statistics.median(o.confidence for o in correct)
                if correct
                else None,
                "median_confidence_negative": statistics.median(o.confidence for o in negatives)
                if negatives
                else None,
            }
        )
    positives = [o for o in outcomes if o.positive]
    negatives = [o for o in outcomes if not o.positive]
    times = [o.match_time_s for o in outcomes]
    return {
        "cells": rows,
        "overall": {
            "clips": len(outcomes),
            "positives": len(positives),
            "negatives": len(negatives),
            **_right_answers(positives),
            "false_positive_rate": _false_positive_rate(negatives),
            "median_match_ms": 1000 * statistics.median(times) if times else None,
            "p95_match_ms": 1000 * _percentile(times, 95) if times else None,
        },
    }


def format_table(summary: dict) -> str:
    """The summary as a plain-text table.

    conf ok and conf neg are the median aligned votes of the right answers and of the
    negatives' best candidates: the gap between them is the room the no-match rule has.
    ratio is the share of right answers whose speed_ratio is within SPEED_RATIO_TOLERANCE
    of the truth.
    """
    header = (
        f"{'condition':<10} {'len s':>5} {'clips':>5} {'top-1':>7} {'offset':>7} {'+repeat':>7} {'wrong':>6} {'neg':>5} {'FP':>6} "
        f"{'med ms':>7} {'p95 ms':>7} {'conf ok':>7} {'conf neg':>8} {'ratio':>7}"
    )
    lines = [header, "-" * len(header)]

    def pct(value):
        return "    -" if value is None else f"{100 * value:6.1f}%"

    def votes(value):
        return "-" if value is None else f"{value:g}"

    for row in summary["cells"]:
        lines.append(
            f"{row['condition']:<10} {row['length_s']:>5g} {row['positives']:>5} {pct(row['accuracy']):>7} "
            f"{pct(row['offset_ok']):>7} {pct(row['offset_ok_or_repeat']):>7} {pct(row['wrong_song']):>6} {row['negatives']:>5} "
            f"{pct(row['false_positive_rate']):>6} {row['median_match_ms']:>7.1f} {row['p95_match_ms']:>7.1f} "
            f"{votes(row['median_confidence_correct']):>7} {votes(row.get('median_confidence_negative')):>8} "
            f"{pct(row.get('speed_ratio_ok')):>7}"
        )
    overall = summary["overall"]
    lines.append("-" * len(header))
    lines.append(
        f"overall: {overall['positives']} positives, top-1 {pct(overall['accuracy']).strip()}, offsets within "
        f"{OFFSET_TOLERANCE_S} s {pct(overall['offset_ok']).strip()} "
        f"({pct(overall['offset_ok_or_repeat']).strip()} counting repeats of the same audio), speed_ratio within "
        f"{100 * SPEED_RATIO_TOLERANCE:g} % {pct(overall.get('speed_ratio_ok')).strip()}; {overall['negatives']} negatives, "
        f"false positives {pct(overall['false_positive_rate']).strip()}; match time median "
        f"{overall['median_match_ms']:.1f} ms, p95 {overall['p95_match_ms']:.1f} ms"
    )
    return "\n".join(lines)
