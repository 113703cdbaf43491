"""The evaluation's plots, drawn with matplotlib's Agg canvas alone (no pyplot, no display)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation

from recognition.engine.matching import Candidate, decide

from .clips import OFFSET_TOLERANCE_S, ClipOutcome

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
# Where the runner-up's votes are sampled to draw the rule's edge.
RULE_GRID_POINTS = 400
# With chance_votes_factor the votes needed grow with all the votes a query drew from the
# catalogue (decide's total_votes), which the report does not keep per clip: the edge is
# drawn at these totals (a 5 s clip draws about 15,000 rows, a vote each at least, from 1.2 M
# fingerprints: README, benchmarks/scale.py's rows per query).
RULE_TOTAL_VOTES = (1_000, 10_000, 100_000)
RULE_LINE_STYLES = ("--", "-.", ":")
MAX_OFFSET_BINS = 60
# The offset error plot spans this many times the tolerance either side of 0.
OFFSET_WINDOW_TOLERANCES = 3


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


def rule_edge(
    runner_up_votes: Sequence[int],
    *,
    top_votes: int,
    total_votes: int,
    min_aligned_votes: int,
    min_margin: float,
    chance_votes_factor: float = 0.0,
) -> np.ndarray:
    """The fewest aligned votes with which decide() names the best candidate, for each runner-up.

    runner_up_votes: the runner-up song's aligned votes, ints [shape=(n,)]; total_votes: all
    the votes the query drew.  Returns int64 [shape=(n,)]: for each runner-up, the least of
    0..top_votes that decide() accepts (found by bisection: more votes for the best never
    lose it the match), or top_votes + 1 where it accepts none of them.
    """

    def named(best_votes: int, runner_up: int) -> bool:
        candidates = [Candidate(1, 0, best_votes), Candidate(2, 0, runner_up)]
        return decide(
            candidates,
            min_aligned_votes=min_aligned_votes,
            min_margin=min_margin,
            chance_votes_factor=chance_votes_factor,
            total_votes=total_votes,
        ).is_match

    return np.array(
        [
            bisect.bisect_left(range(top_votes + 1), True, key=lambda best: named(best, int(runner_up)))
            for runner_up in runner_up_votes
        ],
        dtype=np.int64,
    )


def confidence_figure(
    outcomes: Sequence[ClipOutcome],
    *,
    min_aligned_votes: int,
    min_margin: float,
    chance_votes_factor: float = 0.0,
) -> Figure:
    """Left: how many votes the best candidate drew, by kind of clip.  Right: best against runner-up.

    Clips are grouped by their best candidate whether or not the rule accepted it, so the
    figure shows what moving the thresholds would change.  The rule is drawn by asking the
    engine's decide() (rule_edge), at RULE_TOTAL_VOTES when chance_votes_factor makes it
    depend on the votes a query drew.
    """
    rule = {
        "min_aligned_votes": min_aligned_votes,
        "min_margin": min_margin,
        "chance_votes_factor": chance_votes_factor,
    }
    totals = RULE_TOTAL_VOTES if chance_votes_factor else (0,)
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
    top = int(np.ceil(most * 1.1))
    [floor] = rule_edge([0], top_votes=top, total_votes=totals[0], **rule)
    drawn = f" and {totals[0]:,} votes drawn" if chance_votes_factor else ""
    votes_ax.axvline(
        floor, color="0.2", linestyle="--", label=f"named from {floor} votes (no runner-up{drawn})"
    )
    _vote_axis(votes_ax.xaxis, votes_ax.set_xscale, most)
    votes_ax.set_xlim(0, most * 1.1)
    votes_ax.set_xlabel("aligned votes of the best candidate")
    votes_ax.set_ylabel("clips")
    votes_ax.set_title("Confidence")
    votes_ax.legend(fontsize="small")
    votes_ax.grid(alpha=0.3)

    runner_up = np.unique(np.linspace(0, top, RULE_GRID_POINTS).round().astype(np.int64))
    needed = (
        f"{min_aligned_votes} + {chance_votes_factor:g} x sqrt(votes drawn)"
        if chance_votes_factor
        else min_aligned_votes
    )
    for n, total in enumerate(totals):
        edge = rule_edge(runner_up, top_votes=top, total_votes=total, **rule)
        if n == 0:
            margin_ax.fill_between(
                runner_up,
                np.minimum(edge, top),
                top,
                color=RIGHT_COLOUR,
                alpha=0.08,
                label="answered as a match",
            )
        margin_ax.plot(
            runner_up,
            edge,
            color="0.2",
            linestyle=RULE_LINE_STYLES[n % len(RULE_LINE_STYLES)],
            label=f"rule: >= {needed} votes and >= {min_margin:g}x runner-up"
            if n == 0
            else f"rule at {total:,} votes drawn",
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
