"""The hash index in files: rows written in hash order are read back by hash, and a directory
that is not a finished index is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recognition.engine.index import META, HashIndex, IndexUnusable, IndexWriter, replace_directory

HASH_BITS = 10


def random_rows(rng, n=3000):
    hashes = np.sort(rng.integers(0, 1 << HASH_BITS, n))
    return hashes, rng.integers(1, 40, n), rng.integers(0, 2**31 - 1, n)


def written(directory, rows, *, chunks=4):
    writer = IndexWriter(directory, hash_bits=HASH_BITS)
    for part in np.array_split(np.arange(len(rows[0])), chunks):
        writer.add(*(column[part] for column in rows))
    return writer.finish(note="kept")


def as_set(found):
    assert all(column.dtype == np.int64 for column in found)
    return set(zip(*(column.tolist() for column in found), strict=True))


def test_lookup_gives_every_row_of_the_hashes_asked_grouped_by_hash(tmp_path):
    rng = np.random.default_rng(2)
    rows = random_rows(rng)
    index = written(tmp_path / "index", rows)
    asked = np.array([rows[0][5], rows[0][5], rows[0][-1], 1 << HASH_BITS, -3, 0])
    found = index.lookup(asked)
    wanted = np.isin(rows[0], asked)
    assert as_set(found) == as_set(tuple(column[wanted] for column in rows))
    assert np.all(np.diff(found[0]) >= 0)
    assert index.rows == 3000 and index.meta["note"] == "kept"


def test_a_lookup_of_nothing_known_is_empty(tmp_path):
    index = written(tmp_path / "index", (np.array([3, 3]), np.array([1, 2]), np.array([7, 8])), chunks=1)
    assert [len(column) for column in index.lookup(np.array([4, 5]))] == [0, 0, 0]
    assert [len(column) for column in index.lookup(np.zeros(0, dtype=np.int64))] == [0, 0, 0]


def test_rows_out_of_hash_order_are_refused(tmp_path):
    writer = IndexWriter(tmp_path / "index", hash_bits=HASH_BITS)
    writer.add(np.array([5, 9]), np.array([1, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match="ascending hash order"):
        writer.add(np.array([7]), np.array([1]), np.array([2]))
    with pytest.raises(ValueError, match="10 bits"):
        writer.add(np.array([1 << HASH_BITS]), np.array([1]), np.array([2]))
    writer.abandon()
    assert not (tmp_path / "index").exists()


def test_an_unfinished_or_damaged_index_is_refused(tmp_path):
    directory = tmp_path / "index"
    writer = IndexWriter(directory, hash_bits=HASH_BITS)
    writer.add(np.array([1, 2]), np.array([1, 1]), np.array([0, 1]))
    with pytest.raises(IndexUnusable, match="no finished index"):
        HashIndex(directory)  # no meta.json yet
    writer.finish()
    HashIndex(directory)
    with open(directory / "frames.bin", "ab") as frames:
        frames.write(b"\0\0")
    with pytest.raises(IndexUnusable, match=r"frames\.bin holds"):
        HashIndex(directory)
    meta = json.loads((directory / META).read_text())
    (directory / META).write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(IndexUnusable, match="format 99"):
        HashIndex(directory)


def test_a_new_index_takes_the_old_ones_place(tmp_path):
    target = tmp_path / "index"
    written(target, (np.array([1]), np.array([1]), np.array([10])), chunks=1)
    old = HashIndex(target)
    written(tmp_path / "new", (np.array([2]), np.array([2]), np.array([20])), chunks=1)
    replace_directory(tmp_path / "new", target)
    assert as_set(HashIndex(target).lookup(np.array([1, 2]))) == {(2, 2, 20)}
    # a process that mapped the old files still reads them until it reopens
    assert as_set(old.lookup(np.array([1]))) == {(1, 1, 10)}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index"]
