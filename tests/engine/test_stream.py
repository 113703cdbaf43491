"""StreamingFingerprinter: chunking never changes the hashes, and hashes follow the audio in time."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from recognition.engine import convert
from recognition.engine.hashes import HASH_BITS, unpack
from recognition.engine.params import FingerprintParams
from recognition.engine.stream import Hashes, StreamingFingerprinter, fingerprint, hash_peaks
from tests.audio_fixtures import synth_song

PARAMS = FingerprintParams()


def fingerprint_in_chunks(samples, sizes, *, params=PARAMS, query=False):
    """Push samples in chunks of the given sizes (cycled), then flush."""
    fingerprinter = StreamingFingerprinter(params, query=query)
    parts, start, i = [], 0, 0
    while start < len(samples):
        size = int(sizes[i % len(sizes)])
        parts.append(fingerprinter.push(samples[start : start + size]))
        start, i = start + size, i + 1
    parts.append(fingerprinter.flush())
    return Hashes.concat(parts)


def pair_counter(result, *, shift_frames=0, from_frame=0):
    return Counter(
        (h, o - shift_frames)
        for h, o in zip(result.hashes.tolist(), result.offsets_frames.tolist(), strict=False)
        if o - shift_frames >= from_frame
    )


def assert_same_hashes(actual, expected):
    assert len(expected) > 0
    np.testing.assert_array_equal(actual.hashes, expected.hashes)
    np.testing.assert_array_equal(actual.offsets_frames, expected.offsets_frames)


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_random_chunk_sizes_give_exactly_the_one_chunk_hashes(seed):
    samples = synth_song(seed, duration_s=8.0)
    sizes = np.random.default_rng(seed).integers(1, 3000, size=200)
    assert_same_hashes(fingerprint_in_chunks(samples, sizes), fingerprint(samples, PARAMS))


@pytest.mark.parametrize("query", [False, True])
def test_chunks_at_hop_and_window_edges_give_the_one_chunk_hashes(query):
    samples = synth_song(25, duration_s=6.0)
    sizes = [PARAMS.hop, PARAMS.window, PARAMS.window + 1, PARAMS.hop - 1, 0, 5000]
    assert_same_hashes(
        fingerprint_in_chunks(samples, sizes, query=query), fingerprint(samples, PARAMS, query=query)
    )


def test_one_sample_chunks_give_the_one_chunk_hashes():
    samples = synth_song(26, duration_s=3.0)
    assert_same_hashes(fingerprint_in_chunks(samples, [1]), fingerprint(samples, PARAMS))


def test_chunking_is_invariant_with_other_params_too():
    params = FingerprintParams(
        window=512, hop=64, density_block_frames=8, target_dt_max_frames=40, max_freq_hz=3900.0
    )
    samples = synth_song(27, duration_s=5.0)
    sizes = np.random.default_rng(27).integers(1, 2000, size=100)
    assert_same_hashes(fingerprint_in_chunks(samples, sizes, params=params), fingerprint(samples, params))


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_query_hashes_cover_the_catalogue_hashes_of_the_same_audio(seed):
    samples = synth_song(seed, duration_s=10.0)
    catalogue = pair_counter(fingerprint(samples, PARAMS))
    query = pair_counter(fingerprint(samples, PARAMS, query=True))
    covered = sum((catalogue & query).values()) / sum(catalogue.values())
    assert covered >= 0.95
    assert sum(query.values()) > 1.5 * sum(catalogue.values())


def test_hashes_stay_inside_the_configured_zone_and_band():
    samples = synth_song(34, duration_s=8.0)
    result = fingerprint(samples, PARAMS)
    f1, f2, dt = unpack(result.hashes)
    lowest, highest = (
        convert.hz_to_bin(PARAMS.min_freq_hz, PARAMS),
        convert.hz_to_bin(PARAMS.max_freq_hz, PARAMS),
    )
    assert result.hashes.min() >= 0 and result.hashes.max() < 1 << HASH_BITS
    assert np.all((f1 >= lowest) & (f1 <= highest) & (f2 >= lowest) & (f2 <= highest))
    assert np.all((dt >= PARAMS.target_dt_min_frames) & (dt <= PARAMS.target_dt_max_frames))
    assert np.all(np.abs(f2 - f1) <= PARAMS.target_df_max_bins)
    n_frames = (len(samples) - PARAMS.window) // PARAMS.hop + 1
    assert result.offsets_frames.min() >= 0 and result.offsets_frames.max() < n_frames
    # The density cap bounds the anchors: at most fan_out hashes per kept peak.
    per_block = convert.peaks_per_block(PARAMS.peaks_per_s, PARAMS)
    n_blocks = -(-n_frames // PARAMS.density_block_frames)
    assert len(result) <= n_blocks * per_block * PARAMS.fan_out


def test_silence_gives_no_hashes():
    assert len(fingerprint(np.zeros(5 * PARAMS.sample_rate_hz, dtype=np.float32), PARAMS)) == 0
    assert len(fingerprint(np.zeros(5 * PARAMS.sample_rate_hz, dtype=np.float32), PARAMS, query=True)) == 0


def test_audio_shorter_than_one_window_gives_no_hashes():
    assert len(fingerprint(synth_song(35, duration_s=1.0)[: PARAMS.window - 1], PARAMS)) == 0


def test_delay_by_whole_blocks_of_frames_shifts_every_offset_by_exactly_that():
    # The density cap's blocks are on an absolute frame grid, so the comparison is exact
    # for a delay of whole blocks; only the first block, next to the silence, may differ.
    samples = synth_song(36, duration_s=12.0)
    delay_frames = 3 * PARAMS.density_block_frames
    delayed = np.concatenate([np.zeros(delay_frames * PARAMS.hop, dtype=np.float32), samples])
    margin = PARAMS.density_block_frames
    original = pair_counter(fingerprint(samples, PARAMS), from_frame=margin)
    shifted = pair_counter(fingerprint(delayed, PARAMS), shift_frames=delay_frames, from_frame=margin)
    assert sum(original.values()) > 300
    assert shifted == original


def test_delay_off_the_block_grid_still_keeps_most_hashes_at_the_shifted_offset():
    samples = synth_song(37, duration_s=12.0)
    delay_frames = 37
    delayed = np.concatenate([np.zeros(delay_frames * PARAMS.hop, dtype=np.float32), samples])
    margin = 2 * PARAMS.density_block_frames
    original = pair_counter(fingerprint(samples, PARAMS), from_frame=margin)
    shifted = pair_counter(fingerprint(delayed, PARAMS), shift_frames=delay_frames, from_frame=margin)
    assert sum((original & shifted).values()) >= 0.6 * sum(original.values())


def test_push_after_flush_is_refused_and_a_second_flush_is_empty():
    fingerprinter = StreamingFingerprinter(PARAMS)
    fingerprinter.push(synth_song(38, duration_s=3.0))
    assert len(fingerprinter.flush()) > 0
    assert len(fingerprinter.flush()) == 0
    with pytest.raises(RuntimeError, match="after flush"):
        fingerprinter.push(np.zeros(10, dtype=np.float32))


def test_seconds_received_counts_every_pushed_sample():
    fingerprinter = StreamingFingerprinter(PARAMS)
    fingerprinter.push(np.zeros(5000, dtype=np.float32))
    fingerprinter.push(np.zeros(7, dtype=np.float32))
    assert fingerprinter.seconds_received == pytest.approx(5007 / PARAMS.sample_rate_hz)


def test_a_peak_in_the_highest_allowed_bin_packs_into_a_hash():
    # max_freq_hz as high as the layout allows: tones in bin 511 must hash, not raise.
    params = FingerprintParams(max_freq_hz=3996.0, min_freq_hz=3000.0)
    t = np.arange(3 * params.sample_rate_hz) / params.sample_rate_hz
    top_hz = 511 * params.sample_rate_hz / params.window
    gate = (np.sin(2 * np.pi * 4 * t) > 0).astype(np.float32)
    samples = (0.5 * gate * np.sin(2 * np.pi * top_hz * t)).astype(np.float32)
    f1, f2, _ = unpack(fingerprint(samples, params).hashes)
    assert len(f1) > 0
    assert 511 in f1.tolist() and 511 in f2.tolist()


@pytest.mark.parametrize("query", [False, True])
def test_the_fingerprinters_hashes_are_hash_peaks_of_its_peaks(query):
    samples = synth_song(41, duration_s=7.0)
    fingerprinter = StreamingFingerprinter(PARAMS, query=query)
    hashes = Hashes.concat(
        [fingerprinter.push(samples[:20000]), fingerprinter.push(samples[20000:]), fingerprinter.flush()]
    )
    peaks = fingerprinter.peaks()
    expected = hash_peaks(peaks.frames, peaks.bins, np.ones(len(peaks), dtype=bool), PARAMS, query=query)
    assert_same_hashes(hashes, expected)


def test_target_ranks_pick_out_the_catalogues_pairs_from_the_querys():
    samples = synth_song(42, duration_s=8.0)
    fingerprinter = StreamingFingerprinter(PARAMS, query=True)
    fingerprinter.push(samples)
    fingerprinter.flush()
    peaks = fingerprinter.peaks()
    anchors = np.ones(len(peaks), dtype=bool)
    query = hash_peaks(peaks.frames, peaks.bins, anchors, PARAMS, query=True)
    ranks = query.target_ranks()
    assert ranks.min() == 0 and ranks.max() == PARAMS.query_fan_out - 1
    # the same peaks paired with the catalogue's fan-out are each anchor's nearest targets
    nearest = query.select(ranks < PARAMS.fan_out)
    assert_same_hashes(nearest, hash_peaks(peaks.frames, peaks.bins, anchors, PARAMS, query=False))
    assert len(nearest) < len(query)


def test_target_ranks_of_no_hashes_are_empty():
    assert len(Hashes.concat([]).target_ranks()) == 0
