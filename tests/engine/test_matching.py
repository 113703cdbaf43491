"""Offset voting: which song and offset a query's hashes agree on, and the no-match rule."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.matching import (
    Candidate,
    Decision,
    OffsetTally,
    VerificationRule,
    decide,
    offset_votes,
)


def i64(values):
    return np.asarray(values, dtype=np.int64)


def split_key(keys):
    """The documented vote key: song_id << 32 | (offset difference + 2**31)."""
    keys = np.asarray(keys, dtype=np.int64)
    return list(zip((keys >> 32).tolist(), ((keys & 0xFFFFFFFF) - (1 << 31)).tolist(), strict=False))


def catalogue_rows(rng, *, n_songs=6, rows_per_song=3000, hash_space=1 << 13):
    """Random rows from a small hash space, so that chance hits between songs are common."""
    song_ids = np.repeat(np.arange(1, n_songs + 1), rows_per_song)
    hashes = rng.integers(0, hash_space, size=len(song_ids))
    offsets = np.tile(np.sort(rng.integers(0, 2000, size=rows_per_song)), n_songs)
    return i64(hashes), i64(song_ids), i64(offsets)


def test_offset_votes_pairs_every_equal_hash():
    votes = offset_votes(
        query_hashes=i64([10, 20, 10]),
        query_offsets=i64([0, 5, 1]),
        db_hashes=i64([10, 30, 20, 10]),
        db_song_ids=i64([1, 1, 1, 2]),
        db_offsets=i64([100, 3, 105, 7]),
    )
    assert sorted(split_key(votes)) == sorted([(1, 100), (1, 99), (1, 100), (2, 7), (2, 6)])


@pytest.mark.parametrize("grouped", [True, False], ids=["rows grouped by hash", "rows in any order"])
def test_offset_votes_are_every_pair_of_equal_hashes_however_the_rows_come(grouped):
    rng = np.random.default_rng(5)
    query_hashes, query_offsets = rng.integers(0, 40, 300), rng.integers(0, 100, 300)
    db_hashes, db_songs, db_offsets = (
        rng.integers(0, 50, 2000),
        rng.integers(1, 9, 2000),
        rng.integers(0, 500, 2000),
    )
    if grouped:
        order = np.argsort(db_hashes, kind="stable")
        db_hashes, db_songs, db_offsets = db_hashes[order], db_songs[order], db_offsets[order]
    expected = sorted(
        (int(song), int(db_offset - q_offset))
        for q_hash, q_offset in zip(query_hashes, query_offsets, strict=True)
        for song, db_offset in zip(
            db_songs[db_hashes == q_hash], db_offsets[db_hashes == q_hash], strict=True
        )
    )
    votes = offset_votes(
        i64(query_hashes), i64(query_offsets), i64(db_hashes), i64(db_songs), i64(db_offsets)
    )
    assert sorted(split_key(votes)) == expected


def test_offset_votes_allows_a_query_offset_past_the_catalogue_offset():
    votes = offset_votes(i64([42]), i64([9]), i64([42]), i64([3]), i64([4]))
    assert split_key(votes) == [(3, -5)]
    tally = OffsetTally()
    tally.add(votes)
    assert tally.candidates(top_n=1) == [Candidate(song_id=3, offset_frames=-5, aligned_votes=1)]


def test_offset_votes_without_common_hashes_is_empty():
    assert len(offset_votes(i64([1, 2]), i64([0, 1]), i64([3, 4]), i64([1, 1]), i64([0, 1]))) == 0
    assert len(offset_votes(i64([]), i64([]), i64([3]), i64([1]), i64([0]))) == 0
    assert len(offset_votes(i64([3]), i64([0]), i64([]), i64([]), i64([]))) == 0


def test_planted_song_and_offset_win_among_chance_hits():
    rng = np.random.default_rng(0)
    db_hashes, db_songs, db_offsets = catalogue_rows(rng)
    planted_song, planted_offset = 4, 700
    part = (db_songs == planted_song) & (db_offsets >= planted_offset) & (db_offsets < planted_offset + 250)
    keep = rng.random(part.sum()) < 0.5  # a degraded clip keeps only some of the hashes
    query_hashes = np.concatenate([db_hashes[part][keep], rng.integers(0, 1 << 13, size=400)])
    query_offsets = np.concatenate([db_offsets[part][keep] - planted_offset, rng.integers(0, 250, size=400)])
    tally = OffsetTally()
    tally.add(offset_votes(i64(query_hashes), i64(query_offsets), db_hashes, db_songs, db_offsets))
    found = tally.candidates(top_n=3)
    assert found[0].song_id == planted_song
    assert found[0].offset_frames == planted_offset
    assert found[0].aligned_votes >= keep.sum()
    assert found[0].aligned_votes > 3 * found[1].aligned_votes
    assert len({c.song_id for c in found}) == 3


def test_tolerance_of_one_frame_merges_neighbouring_offsets():
    tally = OffsetTally()
    keys = [(1, 99)] * 3 + [(1, 100)] * 4 + [(1, 101)] * 3 + [(2, 50)] * 8
    tally.add(i64([song << 32 | (offset + (1 << 31)) for song, offset in keys]))
    merged = tally.candidates(top_n=2, tolerance_frames=1)
    assert merged == [Candidate(1, 100, 10), Candidate(2, 50, 8)]
    exact = tally.candidates(top_n=2, tolerance_frames=0)
    assert exact == [Candidate(2, 50, 8), Candidate(1, 100, 4)]


def test_tolerance_does_not_merge_offsets_two_frames_apart():
    tally = OffsetTally()
    keys = [(1, 98)] * 5 + [(1, 100)] * 4
    tally.add(i64([song << 32 | (offset + (1 << 31)) for song, offset in keys]))
    assert tally.candidates(top_n=1, tolerance_frames=1) == [Candidate(1, 98, 5)]
    assert tally.candidates(top_n=1, tolerance_frames=2) == [Candidate(1, 98, 9)]


def test_tally_over_several_adds_equals_one_add_of_everything():
    rng = np.random.default_rng(1)
    songs = rng.integers(1, 20, size=5000)
    offsets = rng.integers(-50, 300, size=5000)
    keys = i64(songs) << 32 | (i64(offsets) + (1 << 31))
    once = OffsetTally()
    once.add(keys)
    in_parts = OffsetTally()
    for part in np.array_split(keys, [7, 1000, 1001, 3500]):
        in_parts.add(part)
    in_parts.add(i64([]))
    assert in_parts.total_votes == once.total_votes == 5000
    assert in_parts.candidates(top_n=50) == once.candidates(top_n=50)


def test_candidates_give_one_best_offset_per_song_strongest_first_up_to_top_n():
    tally = OffsetTally()
    keys = [(5, 10)] * 2 + [(5, 40)] * 6 + [(6, 0)] * 7 + [(7, 3)] * 1
    tally.add(i64([song << 32 | (offset + (1 << 31)) for song, offset in keys]))
    expected = [Candidate(6, 0, 7), Candidate(5, 40, 6), Candidate(7, 3, 1)]
    assert tally.candidates(top_n=5, tolerance_frames=0) == expected
    assert tally.candidates(top_n=2, tolerance_frames=0) == expected[:2]
    assert OffsetTally().candidates(top_n=3) == []


def test_song_offsets_list_each_alignment_of_one_song_once_best_first():
    tally = OffsetTally()
    # song 5 repeats: alignments at 100 (6 + 3 neighbour votes), 400 (7) and 900 (2); song 6 and
    # song 4 (the neighbours in key order) must not leak in
    keys = [(5, 99)] * 3 + [(5, 100)] * 6 + [(5, 400)] * 7 + [(5, 900)] * 2 + [(6, 100)] * 20 + [(4, 400)] * 9
    tally.add(i64([song << 32 | (offset + (1 << 31)) for song, offset in keys]))
    assert tally.song_offsets(5, top_n=5, tolerance_frames=1) == [
        Candidate(5, 100, 9),
        Candidate(5, 400, 7),
        Candidate(5, 900, 2),
    ]
    assert tally.song_offsets(5, top_n=2, tolerance_frames=1) == [Candidate(5, 100, 9), Candidate(5, 400, 7)]
    # the first is the offset candidates() gives the song
    assert tally.song_offsets(5, top_n=1, tolerance_frames=1) == [
        c for c in tally.candidates(top_n=5, tolerance_frames=1) if c.song_id == 5
    ]
    assert tally.song_offsets(7, top_n=3) == []
    assert OffsetTally().song_offsets(5, top_n=3) == []


def test_song_offsets_do_not_list_a_neighbour_of_a_better_alignment_again():
    tally = OffsetTally()
    keys = [(1, 50)] * 5 + [(1, 51)] * 4 + [(1, 52)] * 3 + [(1, 54)] * 1
    tally.add(i64([song << 32 | (offset + (1 << 31)) for song, offset in keys]))
    # 51 has 12 aligned votes; 50 and 52 are within its tolerance, 54 is not within 2 frames
    assert tally.song_offsets(1, top_n=5, tolerance_frames=1) == [Candidate(1, 51, 12), Candidate(1, 54, 1)]


def test_decide_refuses_when_nothing_matched():
    decision = decide([], min_aligned_votes=5, min_margin=2.0)
    assert not decision.is_match
    assert "no hash" in decision.reason


def test_decide_refuses_below_min_aligned_votes_and_says_so():
    decision = decide([Candidate(1, 10, 4)], min_aligned_votes=5, min_margin=2.0)
    assert not decision.is_match
    assert decision.reason == "4 aligned votes, fewer than the 5.0 needed"


def test_decide_refuses_without_the_margin_over_the_runner_up_and_says_so():
    decision = decide([Candidate(1, 10, 19), Candidate(2, 3, 10)], min_aligned_votes=5, min_margin=2.0)
    assert not decision.is_match
    assert "19 aligned votes" in decision.reason
    assert "2.0x" in decision.reason and "runner-up's 10" in decision.reason


@pytest.mark.parametrize(
    "candidates",
    [
        [Candidate(1, 10, 5)],  # exactly min_aligned_votes, no runner-up
        [Candidate(1, 10, 20), Candidate(2, 3, 10)],  # exactly min_margin times the runner-up
        [Candidate(1, 10, 50), Candidate(2, 3, 4), Candidate(3, 0, 2)],
    ],
)
def test_decide_accepts_enough_votes_with_a_clear_margin(candidates):
    decision = decide(candidates, min_aligned_votes=5, min_margin=2.0)
    assert decision.is_match
    assert decision.reason == ""


def test_decide_needs_more_votes_when_the_query_drew_more_chance_hits():
    candidates = [Candidate(1, 10, 10)]
    assert decide(
        candidates, min_aligned_votes=4, min_margin=2.0, chance_votes_factor=0.1, total_votes=3600
    ).is_match
    refused = decide(
        candidates, min_aligned_votes=4, min_margin=2.0, chance_votes_factor=0.1, total_votes=4900
    )
    assert not refused.is_match
    assert "11.0 needed" in refused.reason


RULE = VerificationRule(reject_below_z=3.0, min_votes=4, min_z=7.0, z_margin=4.0)


def test_verification_names_a_candidate_with_too_few_votes_for_the_vote_rule():
    candidates = [Candidate(1, 100, 6), Candidate(2, 7, 4), Candidate(3, 9, 3)]
    assert not decide(candidates, min_aligned_votes=10, min_margin=2.0).is_match
    decision = decide(
        candidates, min_aligned_votes=10, min_margin=2.0, z_scores=[9.5, 2.0, 5.4], verification=RULE
    )
    assert decision == Decision(True, "", verified=True, index=0)


def test_verification_may_name_a_candidate_with_fewer_votes_than_the_first():
    candidates = [Candidate(1, 100, 6), Candidate(2, 7, 5), Candidate(3, 9, 3)]
    decision = decide(
        candidates, min_aligned_votes=10, min_margin=2.0, z_scores=[1.0, 12.0, 0.5], verification=RULE
    )
    assert decision.is_match and decision.verified and decision.index == 1


@pytest.mark.parametrize(
    ("z_scores", "votes"),
    [
        ([6.9, 0.0, 0.0], 6),  # z below min_z
        ([9.0, 5.5, 0.0], 6),  # not z_margin above another candidate
        ([9.0, 0.0, 0.0], 3),  # too few votes even for verification
    ],
)
def test_verification_that_is_not_strong_enough_leaves_the_refusal(z_scores, votes):
    candidates = [Candidate(1, 100, votes), Candidate(2, 7, 2), Candidate(3, 9, 1)]
    decision = decide(candidates, min_aligned_votes=10, min_margin=2.0, z_scores=z_scores, verification=RULE)
    assert not decision.is_match
    assert "fewer than the 10.0 needed" in decision.reason


def test_a_vote_answer_whose_peaks_do_not_verify_is_refused():
    candidates = [Candidate(1, 100, 14), Candidate(2, 7, 5)]
    assert decide(
        candidates, min_aligned_votes=10, min_margin=2.0, z_scores=[3.5, 0.0], verification=RULE
    ).is_match
    decision = decide(
        candidates, min_aligned_votes=10, min_margin=2.0, z_scores=[2.9, 0.0], verification=RULE
    )
    assert not decision.is_match
    assert "do not verify (z 2.9, below 3.0)" in decision.reason


def test_without_z_scores_the_rule_is_the_vote_rule():
    candidates = [Candidate(1, 100, 14), Candidate(2, 7, 5)]
    assert decide(candidates, min_aligned_votes=10, min_margin=2.0, verification=RULE) == Decision(True, "")
    weak = [Candidate(1, 100, 6)]
    assert not decide(weak, min_aligned_votes=10, min_margin=2.0, z_scores=None, verification=RULE).is_match


def decide_on_hypotheses(hypotheses, hypothesis_z):
    # song 1's most voted alignment (offset 100) is refused by the vote rule
    return decide(
        [Candidate(1, 100, 6), Candidate(2, 7, 5)],
        min_aligned_votes=10,
        min_margin=2.0,
        verification=RULE,
        hypotheses=hypotheses,
        hypothesis_z=hypothesis_z,
    )


def test_verification_weighs_the_hypotheses_given_instead_of_the_candidates():
    # song 1's alignment at 640 verifies, its most voted one was chance
    decision = decide_on_hypotheses([Candidate(1, 640, 5), Candidate(2, 7, 5)], [11.0, 2.0])
    assert decision == Decision(True, "", verified=True, index=0)


def test_hypotheses_are_weighed_against_the_other_songs_best_z():
    # song 2 within z_margin of song 1
    refused = decide_on_hypotheses([Candidate(1, 640, 5), Candidate(2, 7, 5)], [11.0, 7.5])
    assert not refused.is_match
    assert "fewer than the 10.0 needed" in refused.reason
    too_few_votes = decide_on_hypotheses([Candidate(1, 640, 3)], [11.0])
    assert not too_few_votes.is_match
