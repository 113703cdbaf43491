"""The default no-match rule: a bar that does not climb with the catalogue, and a margin."""

from __future__ import annotations

import pytest

from recognition import conf
from recognition.engine.matching import Candidate, decide


def _decide_with_defaults(candidates, *, total_votes):
    service = conf.service_settings()
    return decide(
        candidates,
        min_aligned_votes=service.min_aligned_votes,
        min_margin=service.min_margin,
        chance_votes_factor=service.chance_votes_factor,
        total_votes=total_votes,
    )


@pytest.mark.parametrize("total_votes", [10_000, 1_000_000, 100_000_000])
def test_a_phone_clip_is_still_named_however_many_votes_a_big_catalogue_draws(total_votes):
    # The median phone clip of the benchmark: 43 aligned votes against a chance runner-up of
    # 20; a 100 M-fingerprint catalogue draws about a million votes for a 5 s query.
    decision = _decide_with_defaults([Candidate(1, 100, 43), Candidate(2, 7, 20)], total_votes=total_votes)
    assert decision.is_match, decision.reason


def test_the_runner_up_guards_unknown_music():
    decision = _decide_with_defaults([Candidate(1, 100, 43), Candidate(2, 7, 22)], total_votes=10_000)
    assert not decision.is_match
    assert "runner-up's 22" in decision.reason


def test_a_few_chance_votes_alone_are_not_an_answer():
    decision = _decide_with_defaults([Candidate(1, 100, 9)], total_votes=50)
    assert not decision.is_match
    assert "fewer than the 10.0 needed" in decision.reason
