"""Voting on aligned offsets: which song, and where in it, a query's hashes agree on.

Every catalogue row that shares a hash with the query votes for (song, db_offset -
query_offset).  A true match piles its votes on one offset (give or take one frame); chance
hits scatter.  OffsetTally keeps the running counts so a stream adds chunk after chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# key = song_id << 32 | (offset difference + 2**31): one sortable int64 per (song, offset).
_DIFF_BIAS = 1 << 31
_SONG_SHIFT = 32


@dataclass(frozen=True)
class Candidate:
    """A song and the offset (in frames) at which the query's start lines up with it."""

    song_id: int
    offset_frames: int
    aligned_votes: int


def _join(query_hashes: np.ndarray, db_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (catalogue row, query hash) pair with equal hash: (row index, query index, order),
    in no particular order.

    Query indices point into query_hashes sorted by `order` (a stable argsort).
    """
    order = np.argsort(query_hashes, kind="stable")
    q_hash = query_hashes[order]
    empty = np.zeros(0, dtype=np.int64)
    if len(db_hashes) == 0 or len(q_hash) == 0:
        return empty, empty, order
    # Work on runs of rows of one hash: lookups return rows grouped by hash (other rows are
    # sorted first), and each run is searched in the query once.  Searching a row at a time
    # was 80 ms a million rows; building every pair index by index most of the rest.
    row_order = None if np.all(db_hashes[1:] >= db_hashes[:-1]) else np.argsort(db_hashes, kind="stable")
    hashes = db_hashes if row_order is None else db_hashes[row_order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    run_rows = np.diff(np.r_[starts, len(hashes)])
    lo = np.searchsorted(q_hash, hashes[starts], side="left")
    matches = np.searchsorted(q_hash, hashes[starts], side="right") - lo
    rows, queries = [], []
    # Pair every row of a run with the run's k-th equal query hash, for k = 0, 1, ...: all
    # runs have a k = 0 when the rows were drawn by these hashes, and few a k = 1.
    runs = np.flatnonzero(matches > 0)
    k = 0
    while len(runs):
        lengths = run_rows[runs]
        if len(runs) == len(starts):
            at = np.arange(len(hashes))
        else:
            at = np.repeat(starts[runs] - np.cumsum(lengths) + lengths, lengths) + np.arange(
                int(lengths.sum())
            )
        rows.append(at)
        queries.append(np.repeat(lo[runs] + k, lengths))
        k += 1
        runs = runs[matches[runs] > k]
    row = np.concatenate(rows) if rows else empty
    if row_order is not None:
        row = row_order[row]
    return row, np.concatenate(queries) if queries else empty, order


def offset_votes(
    query_hashes: np.ndarray,
    query_offsets: np.ndarray,
    db_hashes: np.ndarray,
    db_song_ids: np.ndarray,
    db_offsets: np.ndarray,
) -> np.ndarray:
    """Vote keys, int64 [shape=(n_votes,)], one for each (query hash, catalogue row) pair with equal hash.

    query_*: int64 [shape=(n_query,)]; db_*: int64 [shape=(n_rows,)].
    """
    if len(query_hashes) == 0 or len(db_hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    row, q_index, order = _join(query_hashes, db_hashes)
    diff = db_offsets[row] - query_offsets[order][q_index]
    # asarray: the ids are int64 already when they come from a lookup, and a copy of a million costs.
    return (np.asarray(db_song_ids[row], dtype=np.int64) << _SONG_SHIFT) | (diff + _DIFF_BIAS)


def matched_pairs(
    query_hashes: np.ndarray, query_offsets: np.ndarray, db_hashes: np.ndarray, db_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(query frame, song frame) of every hash the query shares with one song's rows.

    query_*: int64 [shape=(n_query,)]; db_*: int64 [shape=(n_rows,)], rows of one song.
    Returns two int64 arrays [shape=(n_pairs,)], as speed.fit_time_ratio takes them.
    """
    if len(query_hashes) == 0 or len(db_hashes) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    row, q_index, order = _join(query_hashes, db_hashes)
    return query_offsets[order][q_index], db_offsets[row]


class OffsetTally:
    """Running vote counts per (song, offset difference)."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0, dtype=np.int64)

    @property
    def total_votes(self) -> int:
        return int(self._counts.sum())

    def add(self, vote_keys: np.ndarray) -> None:
        """Count new votes.  Linear in the tally's size: only the new keys are sorted."""
        if len(vote_keys) == 0:
            return
        new_keys, new_counts = np.unique(vote_keys, return_counts=True)
        if len(self._keys) == 0:
            self._keys, self._counts = new_keys, new_counts.astype(np.int64)
            return
        at = np.searchsorted(self._keys, new_keys)
        present = at < len(self._keys)
        present[present] = self._keys[at[present]] == new_keys[present]
        np.add.at(self._counts, at[present], new_counts[present])
        if not present.all():
            self._keys = np.insert(self._keys, at[~present], new_keys[~present])
            self._counts = np.insert(self._counts, at[~present], new_counts[~present])

    @staticmethod
    def _aligned(keys: np.ndarray, counts: np.ndarray, tolerance_frames: int) -> np.ndarray:
        """Votes within +-tolerance_frames of each key's offset, same song: int64 like counts."""
        aligned = counts.copy()
        # Keys are sorted and unique, so key + d (d <= tolerance) can only sit within d places.
        for shift in range(1, tolerance_frames + 1):
            for distance in range(1, shift + 1):
                forward = keys[distance:] - keys[:-distance] == shift
                aligned[:-distance] += np.where(forward, counts[distance:], 0)
                aligned[distance:] += np.where(forward, counts[:-distance], 0)
        return aligned

    def song_offsets(self, song_id: int, *, top_n: int, tolerance_frames: int = 1) -> list[Candidate]:
        """The top_n offsets of one song by aligned votes, each more than 2 * tolerance_frames
        from a better one (so one alignment's neighbours do not count as others).

        Music that repeats itself (loops, choruses) puts the votes of one query on several
        offsets of the same song; candidates() keeps only the best of them.
        """
        if len(self._keys) == 0:
            return []
        lo, hi = np.searchsorted(self._keys, [song_id << _SONG_SHIFT, (song_id + 1) << _SONG_SHIFT])
        aligned = self._aligned(self._keys[lo:hi], self._counts[lo:hi], tolerance_frames)
        offsets = (self._keys[lo:hi] & 0xFFFFFFFF) - _DIFF_BIAS
        chosen: list[Candidate] = []
        # Best first as in candidates(): most aligned votes, then most raw votes, then earliest; each kept offset shadows at most 4 * tolerance
        # neighbours, so the loop ends within top_n * (4 * tolerance_frames + 1) steps.
        for i in np.lexsort((offsets, -self._counts[lo:hi], -aligned)):
            if len(chosen) == top_n:
                break
            if all(abs(int(offsets[i]) - c.offset_frames) > 2 * tolerance_frames for c in chosen):
                chosen.append(Candidate(song_id, int(offsets[i]), int(aligned[i])))
        return chosen

    def candidates(self, *, top_n: int, tolerance_frames: int = 1) -> list[Candidate]:
        """The best offset of each of the top_n songs, by votes within +-tolerance_frames."""
        if len(self._keys) == 0:
            return []
        keys, counts = self._keys, self._counts
        aligned = self._aligned(keys, counts, tolerance_frames)
        songs = keys >> _SONG_SHIFT
        # Keys sort by song first: each song is one run.  Best key of a run: most aligned
        # votes, then most raw votes, then the earliest offset.
        starts = np.flatnonzero(np.r_[True, songs[1:] != songs[:-1]])
        rank = aligned * (int(counts.max()) + 1) + counts
        run_best = np.maximum.reduceat(rank, starts)
        run_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(keys)]))
        reaching = np.flatnonzero(rank == run_best[run_of])
        _, first_per_run = np.unique(run_of[reaching], return_index=True)
        best = reaching[first_per_run]
        best = best[np.lexsort((songs[best], -aligned[best]))][:top_n]
        return [
            Candidate(
                song_id=int(songs[i]),
                offset_frames=int((keys[i] & 0xFFFFFFFF) - _DIFF_BIAS),
                aligned_votes=int(aligned[i]),
            )
            for i in best
        ]


@dataclass(frozen=True)
class Decision:
    """Whether the best candidate is a match under the no-match rule, and why not."""

    is_match: bool
    reason: str
    #: named on the strength of its verification, with fewer votes than the vote rule asks
    verified: bool = False
    #: which candidate is named (verification may name another than the one with most votes)
    index: int = 0


@dataclass(frozen=True)
class VerificationRule:
    """How verification (engine.verify) changes the no-match rule; z is Verification.z.

    A candidate the vote rule names is refused when its z is below reject_below_z.  When
    the vote rule names none, the hypothesis (a song at one of its alignments) that
    verifies best is named if it has at least min_votes aligned votes, a z of at least
    min_z, and a z at least z_margin above every other song's best.
    """

    reject_below_z: float
    min_votes: int
    min_z: float
    z_margin: float


def decide(
    candidates: list[Candidate],
    *,
    min_aligned_votes: int,
    min_margin: float,
    chance_votes_factor: float = 0.0,
    total_votes: int = 0,
    z_scores: list[float] | None = None,
    verification: VerificationRule | None = None,
    hypotheses: list[Candidate] | None = None,
    hypothesis_z: list[float] | None = None,
) -> Decision:
    """The no-match rule.  The best candidate is a match when it has

    - at least min_aligned_votes + chance_votes_factor * sqrt(total_votes) aligned votes:
      the more hits a query draws from the catalogue, the higher chance alignments reach
      (roughly as the square root of the hits), and
    - at least min_margin times the runner-up song's aligned votes (the runner-up stands
      for what similar but different music scores in this catalogue).

    Given z_scores (engine.verify) of the first len(z_scores) candidates and a verification
    rule, the verification can overrule the votes either way (see VerificationRule).  When
    the votes name none, the verification weighs hypotheses (one per song, each with its z
    in hypothesis_z) if given, else those candidates; Decision.index then points into the
    list it weighed.
    """
    if not candidates:
        return Decision(False, "no hash of the query is in the catalogue")
    best = candidates[0]
    runner_up = candidates[1].aligned_votes if len(candidates) > 1 else 0
    needed = min_aligned_votes + chance_votes_factor * float(np.sqrt(max(total_votes, 0)))
    verifying = verification is not None and bool(z_scores) and len(z_scores) <= len(candidates)
    if best.aligned_votes < needed:
        refused = Decision(False, f"{best.aligned_votes} aligned votes, fewer than the {needed:.1f} needed")
    elif best.aligned_votes < min_margin * runner_up:
        refused = Decision(
            False, f"{best.aligned_votes} aligned votes, not {min_margin}x the runner-up's {runner_up}"
        )
    elif verifying and z_scores[0] < verification.reject_below_z:
        return Decision(
            False,
            f"{best.aligned_votes} aligned votes, but its peaks do not verify "
            f"(z {z_scores[0]:.1f}, below {verification.reject_below_z})",
        )
    else:
        return Decision(True, "")
    if verification is not None and hypotheses and hypothesis_z:
        weighed, weighed_z = hypotheses, hypothesis_z
    elif verifying:
        weighed, weighed_z = candidates, z_scores
    else:
        return refused
    index = int(np.argmax(weighed_z))
    others = weighed_z[:index] + weighed_z[index + 1 :]
    if (
        weighed[index].aligned_votes >= verification.min_votes
        and weighed_z[index] >= verification.min_z
        and weighed_z[index] >= max(others, default=0.0) + verification.z_margin
    ):
        return Decision(True, "", verified=True, index=index)
    return refused
