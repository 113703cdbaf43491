"""The confidence plot draws the no-match rule the engine applies, asked of decide() itself."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.matching import Candidate, decide
from recognition.evaluation import plots
from recognition.evaluation.clips import ClipOutcome

RULES = [
    {"min_aligned_votes": 10, "min_margin": 2.0, "chance_votes_factor": 0.0},  # the defaults
    {"min_aligned_votes": 4, "min_margin": 1.75, "chance_votes_factor": 0.1},  # the earlier defaults
    {"min_aligned_votes": 12, "min_margin": 1.5, "chance_votes_factor": 0.5},
]


def outcome(index: int, *, song_id: int | None, best_song_id: int | None, confidence: int, runner_up: int):
    return ClipOutcome(
        index=index,
        path=f"/music/{index}.ogg",
        song_id=song_id,
        start_s=10.0,
        length_s=5.0,
        condition="clean",
        predicted_song_id=None,
        predicted_offset_s=None,
        confidence=confidence,
        runner_up=runner_up,
        score=0.0,
        query_hashes=500,
        match_time_s=0.02,
        best_song_id=best_song_id,
    )


def some_outcomes() -> list[ClipOutcome]:
    rng = np.random.default_rng(3)
    outcomes = []
    for index in range(60):
        positive = index % 3 != 0
        confidence = int(rng.integers(0, 300 if positive else 20))
        outcomes.append(
            outcome(
                index,
                song_id=1 if positive else None,
                best_song_id=1 if positive and index % 5 else 2,
                confidence=confidence,
                runner_up=int(rng.integers(0, confidence + 1)),
            )
        )
    return outcomes


def named(best_votes: int, runner_up: int, *, total_votes: int, **rule) -> bool:
    candidates = [Candidate(7, 0, best_votes), Candidate(8, 0, runner_up)]
    return decide(candidates, total_votes=total_votes, **rule).is_match


@pytest.mark.parametrize("rule", RULES, ids=["default", "earlier", "steep"])
def test_every_point_of_the_drawn_rule_is_where_decide_starts_to_name(rule):
    outcomes = some_outcomes()
    figure = plots.confidence_figure(outcomes, **rule)
    votes_ax, margin_ax = figure.axes[:2]
    top = int(np.ceil(max(o.confidence for o in outcomes) * 1.1))
    totals = plots.RULE_TOTAL_VOTES if rule["chance_votes_factor"] else (0,)

    edges = [line for line in margin_ax.get_lines() if line.get_label().startswith("rule")]
    assert len(edges) == len(totals)
    for line, total in zip(edges, totals, strict=True):
        for runner_up, best in zip(line.get_xdata(), line.get_ydata(), strict=True):
            runner_up, best = int(runner_up), int(best)
            if best <= top:
                assert named(best, runner_up, total_votes=total, **rule), (runner_up, best, total)
            assert not named(best - 1, runner_up, total_votes=total, **rule), (runner_up, best, total)

    [floor] = [line for line in votes_ax.get_lines() if line.get_label().startswith("named from")]
    x = int(floor.get_xdata()[0])
    assert named(x, 0, total_votes=totals[0], **rule) and not named(x - 1, 0, total_votes=totals[0], **rule)


def test_the_edge_with_chance_votes_is_above_the_bare_thresholds():
    """The edge once drawn without the chance_votes_factor term would fail the test above."""
    rule = RULES[1]
    runner_up = np.arange(0, 12)
    edge = plots.rule_edge(runner_up, top_votes=100, total_votes=10_000, **rule)
    without_chance_term = np.ceil(np.maximum(rule["min_aligned_votes"], rule["min_margin"] * runner_up))
    # 4 + 0.1 x sqrt(10,000) = 14 votes, until 1.75x the runner-up asks more.
    assert edge.tolist() == [14] * 9 + [16, 18, 20]
    assert np.all(edge[:8] > without_chance_term[:8]) and np.all(edge >= without_chance_term)


@pytest.mark.parametrize("rule", RULES, ids=["default", "earlier", "steep"])
def test_rule_edge_splits_every_column_of_a_dense_grid_as_decide_does(rule):
    top = 80
    runner_up = np.arange(0, 50)
    for total in (0, 1_000, 40_000):
        edge = plots.rule_edge(runner_up, top_votes=top, total_votes=total, **rule)
        for r, first in zip(runner_up, edge, strict=True):
            answers = [named(best, int(r), total_votes=total, **rule) for best in range(top + 1)]
            assert answers == [best >= first for best in range(top + 1)], (r, total)
