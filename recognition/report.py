"""The files an evaluation leaves behind: clips as CSV, everything as JSON, PNG plots and an index.html."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation

from catalog import selectors

from . import conf
from .evaluation import OFFSET_TOLERANCE_S, ClipOutcome, TrackScan
from .output import format_offset

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

# Okabe-Ito colours, told apart with most colour-vision deficiencies.
RIGHT_COLOUR = "#009E73"
WRONG_COLOUR = "#D55E00"
NEGATIVE_COLOUR = "#0072B2"
CONDITION_COLOURS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
# Sideways shift between conditions in the accuracy plot, in points (1/72 inch).
DODGE_POINTS = 6
# Below this many votes the vote axes are linear, so 0 and the threshold stay visible.
VOTES_LINEAR_BELOW = 10
VOTE_TICKS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
MAX_OFFSET_BINS = 60
# The offset error plot spans this many times the tolerance either side of 0.
OFFSET_WINDOW_TOLERANCES = 3


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
        "accuracy.png": accuracy_figure(summary),
        "match_time.png": match_time_figure(outcomes),
        "confidence.png": confidence_figure(
            outcomes, min_aligned_votes=service.min_aligned_votes, min_margin=service.min_margin
        ),
        "offset_error.png": offset_error_figure(outcomes, frame_ms=frame_ms),
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


def _figure(n_columns: int = 1) -> tuple[Figure, list]:
    """A figure drawn by Agg alone: no pyplot, no display, no global state."""
    figure = Figure(figsize=(5.2 * n_columns, 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, n_columns, squeeze=False)[0]
    return figure, list(axes)


def _nothing_to_show(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def accuracy_figure(summary: dict) -> Figure:
    figure, (accuracy_ax, false_ax) = _figure(2)
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for cell in summary["cells"]:
        by_condition[cell["condition"]].append(cell)
    lengths = sorted({cell["length_s"] for cell in summary["cells"]})
    panels = (
        (
            accuracy_ax,
            "accuracy",
            "positives",
            "top-1 accuracy (%)",
            "Catalogued clips",
            "no catalogued clips",
        ),
        (
            false_ax,
            "false_positive_rate",
            "negatives",
            "false positives (%)",
            "Clips not in the catalogue",
            "no clips of music outside the catalogue",
        ),
    )
    for ax, key, count_key, ylabel, title, empty in panels:
        if not any(cell[key] is not None for cell in summary["cells"]):
            _nothing_to_show(ax, empty)
            ax.set_title(title)
            continue
        # Conditions often agree exactly (all at 100%): a sideways shift of a few points and a
        # marker of their own keep every line visible.
        for n, (condition, cells) in enumerate(by_condition.items()):
            shown = [c for c in cells if c[key] is not None]
            shift_in = (n - (len(by_condition) - 1) / 2) * DODGE_POINTS / 72
            ax.plot(
                [c["length_s"] for c in shown],
                [100 * c[key] for c in shown],
                transform=ax.transData + ScaledTranslation(shift_in, 0, figure.dpi_scale_trans),
                marker=MARKERS[n % len(MARKERS)],
                color=CONDITION_COLOURS[n % len(CONDITION_COLOURS)],
                label=condition,
            )
        counts = sorted({cell[count_key] for cell in summary["cells"] if cell[count_key]})
        per_point = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        ax.set_title(f"{title} ({per_point} per point)")
        ax.set_xticks(lengths, [f"{length:g}" for length in lengths])
        margin_s = 0.08 * (
            lengths[-1] - lengths[0] or 4.0
        )  # shifted lines do not widen the limits themselves
        ax.set_xlim(lengths[0] - margin_s, lengths[-1] + margin_s)
        ax.set_xlabel("clip length (s)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
        ax.legend(title="condition", fontsize="small")
    return figure


def match_time_figure(outcomes: Sequence[ClipOutcome]) -> Figure:
    figure, (ax,) = _figure()
    by_length: dict[float, list[float]] = defaultdict(list)
    for outcome in outcomes:
        by_length[outcome.length_s].append(1000.0 * outcome.match_time_s)
    if not by_length:
        _nothing_to_show(ax, "no clips")
        return figure
    lengths = sorted(by_length)
    data = [by_length[length] for length in lengths]
    ax.boxplot(data, tick_labels=[f"{length:g}" for length in lengths], whis=(5, 95), sym=".")
    for position, values in enumerate(data, 1):
        ax.annotate(
            f"{np.median(values):.0f} ms",
            (position, np.median(values)),
            xytext=(14, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    all_ms = np.concatenate(data)
    if all_ms.min() > 0 and all_ms.max() / all_ms.min() > 30:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_title(f"Match time ({len(outcomes)} clips; whiskers 5th-95th percentile)")
    ax.set_xlabel("clip length (s)")
    ax.set_ylabel("match time (ms)")
    ax.grid(alpha=0.3, axis="y")
    return figure


def confidence_figure(
    outcomes: Sequence[ClipOutcome], *, min_aligned_votes: int, min_margin: float
) -> Figure:
    """Left: how many votes the best candidate drew, by kind of clip.  Right: best against runner-up.

    Clips are grouped by their best candidate whether or not the rule accepted it, so the
    figure shows what moving the thresholds would change.
    """
    figure, (votes_ax, margin_ax) = _figure(2)
    groups = {
        "catalogued, best candidate right": (
            [o for o in outcomes if o.positive and o.best_song_id == o.song_id],
            RIGHT_COLOUR,
        ),
        "catalogued, best candidate wrong or none": (
            [o for o in outcomes if o.positive and o.best_song_id != o.song_id],
            WRONG_COLOUR,
        ),
        "not in the catalogue": ([o for o in outcomes if not o.positive], NEGATIVE_COLOUR),
    }
    most = max([o.confidence for o in outcomes] + [o.runner_up for o in outcomes] + [min_aligned_votes, 1])
    bins = np.unique(
        np.concatenate(
            [np.arange(0, VOTES_LINEAR_BELOW), np.geomspace(VOTES_LINEAR_BELOW, most + 1, 30).round()]
        )
    )
    for label, (group, colour) in groups.items():
        if group:
            votes_ax.hist(
                [o.confidence for o in group],
                bins=bins,
                histtype="step",
                linewidth=1.6,
                color=colour,
                label=f"{label} ({len(group)})",
            )
            margin_ax.scatter(
                [o.runner_up for o in group],
                [o.confidence for o in group],
                s=16,
                alpha=0.6,
                color=colour,
                label=label,
            )
    votes_ax.axvline(
        min_aligned_votes, color="0.2", linestyle="--", label=f"min_aligned_votes = {min_aligned_votes}"
    )
    _vote_axis(votes_ax.xaxis, votes_ax.set_xscale, most)
    votes_ax.set_xlim(0, most * 1.1)
    votes_ax.set_xlabel("aligned votes of the best candidate")
    votes_ax.set_ylabel("clips")
    votes_ax.set_title("Confidence")
    votes_ax.legend(fontsize="small")
    votes_ax.grid(alpha=0.3)

    runner_up = np.linspace(0, most * 1.1, 400)
    needed = np.maximum(min_aligned_votes, min_margin * runner_up)
    margin_ax.fill_between(
        runner_up, needed, most * 1.1, color=RIGHT_COLOUR, alpha=0.08, label="answered as a match"
    )
    margin_ax.plot(
        runner_up,
        needed,
        color="0.2",
        linestyle="--",
        label=f"rule: >= {min_aligned_votes} votes and >= {min_margin:g}x runner-up",
    )
    _vote_axis(margin_ax.xaxis, margin_ax.set_xscale, most)
    _vote_axis(margin_ax.yaxis, margin_ax.set_yscale, most)
    margin_ax.set_xlim(0, most * 1.1)
    margin_ax.set_ylim(0, most * 1.1)
    margin_ax.set_xlabel("aligned votes of the runner-up song")
    margin_ax.set_ylabel("aligned votes of the best candidate")
    margin_ax.set_title("Best against runner-up")
    margin_ax.legend(fontsize="small", loc="lower right")  # below the diagonal: never a point
    margin_ax.grid(alpha=0.3)
    return figure


def _vote_axis(axis, set_scale, most: int) -> None:
    """Vote counts: linear up to VOTES_LINEAR_BELOW, logarithmic above, labelled in plain numbers."""
    set_scale("symlog", linthresh=VOTES_LINEAR_BELOW)
    ticks = [tick for tick in VOTE_TICKS if tick <= most * 1.1]
    axis.set_ticks(ticks, [str(tick) for tick in ticks])
    axis.set_minor_locator(NullLocator())


def offset_error_figure(outcomes: Sequence[ClipOutcome], *, frame_ms: float) -> Figure:
    figure, (ax,) = _figure()
    errors: dict[str, list[float]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.correct:
            errors[outcome.condition].append(1000.0 * (outcome.predicted_offset_s - outcome.start_s))
    if not errors:
        _nothing_to_show(ax, "no right answers")
        ax.set_title("Offset error")
        return figure
    tolerance_ms = 1000.0 * OFFSET_TOLERANCE_S
    # Music that repeats itself gives right songs at the wrong repeat, seconds or minutes
    # away; drawn to scale they would hide the spread near 0, so they are counted instead.
    reach_ms = OFFSET_WINDOW_TOLERANCES * tolerance_ms + frame_ms
    # Offsets come in whole frames: one bar per frame, centred on 0, unless that is too many.
    width_ms = max(frame_ms, 2 * reach_ms / MAX_OFFSET_BINS)
    half_bins = int(np.ceil(reach_ms / width_ms))
    bins = (np.arange(-half_bins, half_bins + 2) - 0.5) * width_ms
    conditions = list(errors)
    colours = [CONDITION_COLOURS[n % len(CONDITION_COLOURS)] for n in range(len(conditions))]
    inside = [[e for e in errors[c] if abs(e) <= bins[-1]] for c in conditions]
    ax.hist(
        inside,
        bins=bins,
        histtype="barstacked",
        color=colours,
        label=[f"{c} ({len(errors[c])})" for c in conditions],
    )
    for edge in (-tolerance_ms, tolerance_ms):
        ax.axvline(edge, color="0.2", linestyle="--")
    ax.text(
        0,
        1.01,
        f"within ±{tolerance_ms:.0f} ms: counted right",
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="bottom",
        fontsize="small",
    )
    outside = [e for c in conditions for e in errors[c] if abs(e) > bins[-1]]
    if outside:
        ax.text(
            0.98,
            0.97,
            f"{len(outside)} more off by over {bins[-1] / 1000:.1f} s\n(up to {max(map(abs, outside)) / 1000:.1f} s)",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize="small",
        )
    ax.set_xlim(bins[0], bins[-1])
    ax.set_title(f"Offset error of right answers (one frame = {frame_ms:.0f} ms)", pad=16)
    ax.set_xlabel("answered minus true start (ms)")
    ax.set_ylabel("clips")
    ax.legend(title="condition", fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    return figure


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _number(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1em 0 2em; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
"""


def index_html(report: dict, rows: Sequence[dict]) -> str:
    """The results folder's front page: tables and plots, every value escaped, no external assets."""
    escape = html.escape
    overall = report["summary"]["overall"]
    rule = report["no_match_rule"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>jamjar evaluation</title>",
        f"<style>{INDEX_STYLE}</style></head><body>",
        "<h1>jamjar evaluation</h1>",
        f"<p>{escape(str(report['arguments'].get('directory', '')))}, {escape(report['created'])}; engine parameters "
        f"{escape(report['params_version'])}; no-match rule: at least {rule['min_aligned_votes']} aligned votes "
        f"(plus {rule['chance_votes_factor']:g} x the square root of all votes) and {rule['min_margin']:g}x the "
        f"runner-up song.</p>",
        f'<p>Every clip: <a href="{CSV_NAME}">{CSV_NAME}</a>; everything, with the arguments: '
        f'<a href="{JSON_NAME}">{JSON_NAME}</a>.</p>',
        "<h2>Overall</h2>",
        _table(
            [
                "clips",
                "catalogued",
                "top-1",
                f"offset within {OFFSET_TOLERANCE_S:g} s",
                "not catalogued",
                "false positives",
                "median match ms",
                "p95 match ms",
            ],
            [
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
        ),
        "<h2>By condition and clip length</h2>",
        _table(
            [
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
            [
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
                for c in report["summary"]["cells"]
            ],
        ),
        "<h2>Plots</h2>",
    ]
    for name, caption in PLOTS.items():
        parts.append(
            f'<figure><img src="{name}" alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption></figure>'
        )
    mistakes = [
        row for row in rows if row["false_positive"] or (row["song_id"] is not None and not row["correct"])
    ]
    parts.append(f"<h2>Mistakes ({len(mistakes)})</h2>")
    if mistakes:
        shown = mistakes[:INDEX_MISTAKES]
        parts.append(
            _table(
                [
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
                [
                    [
                        row["path"],
                        row["condition"],
                        f"{row['length_s']:g}",
                        format_offset(row["start_s"]),
                        row["title"] or "(not catalogued)",
                        row["predicted_title"] or "(no match)",
                        format_offset(row["predicted_offset_s"])
                        if row["predicted_offset_s"] is not None
                        else "",
                        row["confidence"],
                        row["runner_up"],
                        row["no_match_reason"],
                    ]
                    for row in shown
                ],
            )
        )
        if len(mistakes) > len(shown):
            parts.append(f"<p>The first {len(shown)} are listed; {CSV_NAME} has them all.</p>")
    else:
        parts.append("<p>None.</p>")
    files = report["files"]
    parts.append("<h2>Files</h2>")
    parts.append(
        f"<p>{files['positives']} catalogued, {files['negatives']} not catalogued, "
        f"{len(files['duplicates'])} duplicate(s) of another file left out, {len(files['failures'])} unreadable.</p>"
    )
    if files["failures"]:
        parts.append(_table(["file", "reason"], [[f["path"], f["reason"]] for f in files["failures"]]))
    parts.append("<h2>Arguments</h2>")
    parts.append(
        _table(
            ["argument", "value"],
            [[key, json.dumps(value, ensure_ascii=False)] for key, value in report["arguments"].items()],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
