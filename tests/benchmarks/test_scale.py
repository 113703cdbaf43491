"""The scale benchmark's synthetic songs: hash values permuted among values of equal popularity."""

from __future__ import annotations

import argparse
import os
import signal
import time

import numpy as np
import pytest

from benchmarks.scale import (
    PERMUTATION_BLOCK,
    Permutations,
    RealSong,
    parse_settings,
    parse_size,
    stop_on_signals,
)


def songs_with_popularity(seed: int = 0) -> list[RealSong]:
    """Three songs whose hashes are drawn with a skewed popularity, as real music's are."""
    rng = np.random.default_rng(seed)
    songs = []
    for song_id in (1, 2, 3):
        hashes = (rng.zipf(1.3, 5000) * 7919 % 100_003).astype(np.int64)
        songs.append(RealSong(song_id, f"song {song_id}", 60.0, hashes, np.sort(rng.integers(0, 1900, 5000))))
    return songs


def test_each_value_goes_to_another_value_of_its_popularity_block():
    songs = songs_with_popularity()
    permutations = Permutations(songs, seed=1)
    values, counts = np.unique(np.concatenate([s.hashes for s in songs]), return_counts=True)
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.lexsort((values, counts))] = np.arange(len(values))
    block = np.minimum(rank // PERMUTATION_BLOCK, len(values) // PERMUTATION_BLOCK - 1)
    for round_index in (0, 1):
        mapped = permutations.mapping(round_index)
        target = np.searchsorted(values, mapped)
        assert np.array_equal(np.sort(target), np.arange(len(values)))  # a permutation
        assert not np.any(target == np.arange(len(values)))  # no value maps to itself
        assert np.array_equal(block[target], block)  # and stays among values of its popularity
    assert not np.array_equal(permutations.mapping(0), permutations.mapping(1))
    assert np.array_equal(Permutations(songs, seed=1).mapping(1), permutations.mapping(1))


def test_a_permuted_song_keeps_its_offsets_length_and_popularity_profile():
    songs = songs_with_popularity()
    permutations = Permutations(songs, seed=2)
    copy = permutations.permute(songs[0].hashes, 0)
    assert copy.shape == songs[0].hashes.shape and copy.dtype == np.int64
    assert np.mean(copy == songs[0].hashes) == 0
    assert set(np.unique(copy)) <= set(permutations.values.tolist())


@pytest.mark.parametrize(
    "text, size", [("10M", 10_000_000), ("2.5m", 2_500_000), ("500k", 500_000), ("1G", 10**9), ("123", 123)]
)
def test_sizes_are_read_with_units(text, size):
    assert parse_size(text) == size


def test_a_bad_size_is_an_argument_error():
    with pytest.raises(argparse.ArgumentTypeError, match="'lots'"):
        parse_size("lots")


def test_compare_settings_are_a_json_object():
    assert parse_settings('{"staged_first_targets": 0}') == {"staged_first_targets": 0}
    for bad in ("staged", "[1]", "{}"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_settings(bad)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_run_unwinds_so_its_server_is_stopped(signum):
    replaced = stop_on_signals()
    unwound = []
    try:
        with pytest.raises(SystemExit, match=signal.Signals(signum).name):
            try:
                os.kill(os.getpid(), signum)
                time.sleep(5)  # the handler runs before this returns
            finally:
                unwound.append(True)
    finally:
        for number, handler in replaced.items():
            signal.signal(number, handler)
    assert unwound == [True]
