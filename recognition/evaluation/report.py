"""The files an evaluation leaves behind: clips as CSV, everything as JSON, PNG plots and an index.html."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from django.template.loader import render_to_string

from catalog import selectors
from recognition import conf
from recognition.output import format_offset

from . import plots
from .clips import OFFSET_TOLERANCE_S, ClipOutcome, TrackScan

CSV_NAME = "clips.csv"
JSON_NAME = "results.json"
INDEX_NAME = "index.html"
# file name -> caption; index.html shows them in this order.
PLOTS = {
    "accuracy.png": "Top-1 accuracy of catalogued clips, and false positives among clips of music not in the catalogue, against clip length.",
    "match_time.png": "Match time per clip (fingerprinting, lookup and alignment; no decoding), by clip length.",
    "confidence.png": "Aligned votes of the best candidate, and of the best against the runner-up song, with the no-match rule drawn.",
    "offset_error.png": "Answered minus true start of every right answer; those far off are counted in the corner.",
}
# A clip's fields in CSV and JSON: what was asked, what was answered, then the evidence.
CLIP_COLUMNS = (
    "index",
    "path",
    "condition",
    "length_s",
    "start_s",
    "song_id",
    "title",
    "predicted_song_id",
    "predicted_title",
    "predicted_offset_s",
    "offset_error_s",
    "expected_speed_ratio",
    "predicted_speed_ratio",
    "correct",
    "offset_ok",
    "offset_in_repeat",
    "speed_ratio_ok",
    "false_positive",
    "confidence",
    "runner_up",
    "best_song_id",
    "score",
    "query_hashes",
    "match_time_ms",
    "no_match_reason",
    "error",
)
# Mistakes listed in index.html; the CSV has every clip.
INDEX_MISTAKES = 200


def write_results(
    folder: str | os.PathLike,
    *,
    outcomes: Sequence[ClipOutcome],
    summary: dict,
    scan: TrackScan,
    arguments: dict,
) -> dict[str, Path]:
    """Write clips.csv, results.json, the PLOTS and index.html into folder (created); name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = conf.fingerprint_params()
    service = conf.service_settings()
    rows = clip_rows(outcomes)
    written = {CSV_NAME: _write_csv(folder / CSV_NAME, rows)}
    report = {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "arguments": arguments,
        "params_version": params.version,
        "params": dataclasses.asdict(params),
        "no_match_rule": {
            "min_aligned_votes": service.min_aligned_votes,
            "min_margin": service.min_margin,
            "chance_votes_factor": service.chance_votes_factor,
            "tolerance_frames": service.tolerance_frames,
        },
        "files": {
            "positives": scan.positives,
            "negatives": scan.negatives,
            "duplicates": scan.duplicates,
            "failures": [{"path": path, "reason": reason} for path, reason in scan.failures],
        },
        "summary": summary,
        "clips": rows,
    }
    written[JSON_NAME] = folder / JSON_NAME
    written[JSON_NAME].write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    frame_ms = 1000.0 * params.hop / params.sample_rate_hz
    figures = {
        "accuracy.png": plots.accuracy_figure(summary),
        "match_time.png": plots.match_time_figure(outcomes),
        "confidence.png": plots.confidence_figure(
            outcomes,
            min_aligned_votes=service.min_aligned_votes,
            min_margin=service.min_margin,
            chance_votes_factor=service.chance_votes_factor,
        ),
        "offset_error.png": plots.offset_error_figure(outcomes, frame_ms=frame_ms),
    }
    for name, figure in figures.items():
        written[name] = folder / name
        figure.savefig(written[name], format="png", dpi=110)
    written[INDEX_NAME] = folder / INDEX_NAME
    written[INDEX_NAME].write_text(index_html(report, rows), encoding="utf-8")
    return written


def clip_rows(outcomes: Sequence[ClipOutcome]) -> list[dict]:
    """One flat dict per clip, with song titles: the CSV's rows and the JSON's clips."""
    ids = (
        {o.song_id for o in outcomes}
        | {o.predicted_song_id for o in outcomes}
        | {o.best_song_id for o in outcomes}
    )
    songs = selectors.songs_by_id(i for i in ids if i is not None)

    def title(song_id):
        return str(songs[song_id]) if song_id in songs else ""

    rows = []
    for outcome in outcomes:
        row = outcome.as_dict()
        row["match_time_ms"] = round(1000.0 * row.pop("match_time_s"), 3)
        row["title"] = title(outcome.song_id)
        row["predicted_title"] = title(outcome.predicted_song_id)
        rows.append({column: row[column] for column in CLIP_COLUMNS})
    return rows


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CLIP_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _number(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def index_html(report: dict, rows: Sequence[dict]) -> str:
    """The results folder's front page (templates/evaluation/index.html): tables, plots, no external assets."""
    overall = report["summary"]["overall"]
    rule = report["no_match_rule"]
    mistakes = [
        row for row in rows if row["false_positive"] or (row["song_id"] is not None and not row["correct"])
    ]
    files = report["files"]
    context = {
        "directory": report["arguments"].get("directory", ""),
        "created": report["created"],
        "params_version": report["params_version"],
        "min_aligned_votes": rule["min_aligned_votes"],
        "chance_votes_factor": f"{rule['chance_votes_factor']:g}",
        "min_margin": f"{rule['min_margin']:g}",
        "csv_name": CSV_NAME,
        "json_name": JSON_NAME,
        "overall": _overall_table(overall),
        "cells": _cells_table(report["summary"]["cells"]),
        "plots": list(PLOTS.items()),
        "mistakes": len(mistakes),
        "mistakes_table": _mistakes_table(mistakes[:INDEX_MISTAKES]),
        "mistakes_left_out": len(mistakes) > INDEX_MISTAKES,
        "files": files,
        "failures_table": {
            "header": ["file", "reason"],
            "rows": [[f["path"], f["reason"]] for f in files["failures"]],
        },
        "arguments_table": {
            "header": ["argument", "value"],
            "rows": [
                [key, json.dumps(value, ensure_ascii=False)] for key, value in report["arguments"].items()
            ],
        },
    }
    return render_to_string("evaluation/index.html", context)


def _overall_table(overall: dict) -> dict:
    return {
        "header": [
            "clips",
            "catalogued",
            "top-1",
            f"offset within {OFFSET_TOLERANCE_S:g} s",
            "not catalogued",
            "false positives",
            "median match ms",
            "p95 match ms",
        ],
        "rows": [
            [
                overall["clips"],
                overall["positives"],
                _percent(overall["accuracy"]),
                _percent(overall["offset_ok"]),
                overall["negatives"],
                _percent(overall["false_positive_rate"]),
                _number(overall["median_match_ms"]),
                _number(overall["p95_match_ms"]),
            ]
        ],
    }


def _cells_table(cells: Sequence[dict]) -> dict:
    return {
        "header": [
            "condition",
            "length s",
            "catalogued",
            "top-1",
            "offset ok",
            "wrong song",
            "not catalogued",
            "false positives",
            "median ms",
            "p95 ms",
            "median votes (right)",
            "median votes (not catalogued)",
            "speed ratio ok",
        ],
        "rows": [
            [
                c["condition"],
                f"{c['length_s']:g}",
                c["positives"],
                _percent(c["accuracy"]),
                _percent(c["offset_ok"]),
                _percent(c["wrong_song"]),
                c["negatives"],
                _percent(c["false_positive_rate"]),
                _number(c["median_match_ms"]),
                _number(c["p95_match_ms"]),
                _number(c["median_confidence_correct"]),
                _number(c.get("median_confidence_negative")),
                _percent(c.get("speed_ratio_ok")),
            ]
            for c in cells
        ],
    }


def _mistakes_table(mistakes: Sequence[dict]) -> dict:
    return {
        "header": [
            "file",
            "condition",
            "length s",
            "start",
            "expected",
            "answered",
            "at",
            "votes",
            "runner-up",
            "why no match",
        ],
        "rows": [
            [
                row["path"],
                row["condition"],
                f"{row['length_s']:g}",
                format_offset(row["start_s"]),
                row["title"] or "(not catalogued)",
                row["predicted_title"] or "(no match)",
                format_offset(row["predicted_offset_s"]) if row["predicted_offset_s"] is not None else "",
                row["confidence"],
                row["runner_up"],
                row["no_match_reason"],
            ]
            for row in mistakes
        ],
    }
