"""Power spectrogram in dB: calibration, framing, shape."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.spectrogram import frame_count, spectrogram_db

RATE_HZ, WINDOW, HOP = 8000, 1024, 128


def sine(freq_hz, *, amplitude=1.0, n_samples=8000):
    t = np.arange(n_samples) / RATE_HZ
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


@pytest.mark.parametrize("tone_bin", [40, 128, 300, 480])
def test_full_scale_sine_at_a_bin_centre_reads_0_db_in_its_bin(tone_bin):
    spec = spectrogram_db(sine(tone_bin * RATE_HZ / WINDOW), window=WINDOW, hop=HOP)
    np.testing.assert_allclose(spec[:, tone_bin], 0.0, atol=0.05)
    assert np.all(np.argmax(spec, axis=1) == tone_bin)
    # Two bins away a Hann window leaks nothing: the neighbours are far below.
    assert np.all(spec[:, tone_bin + 2] < -60.0)


def test_half_amplitude_sine_reads_minus_6_db():
    spec = spectrogram_db(sine(100 * RATE_HZ / WINDOW, amplitude=0.5), window=WINDOW, hop=HOP)
    np.testing.assert_allclose(spec[:, 100], 20 * np.log10(0.5), atol=0.05)


def test_silence_is_finite_and_far_below_any_floor():
    spec = spectrogram_db(np.zeros(4000, dtype=np.float32), window=WINDOW, hop=HOP)
    assert np.all(np.isfinite(spec))
    assert spec.max() < -100.0


@pytest.mark.parametrize(
    ("n_samples", "expected"),
    [(0, 0), (1023, 0), (1024, 1), (1151, 1), (1152, 2), (8000, 55), (1024 + 128 * 99, 100)],
)
def test_frame_count_counts_whole_windows_on_the_hop_grid(n_samples, expected):
    assert frame_count(n_samples, window=WINDOW, hop=HOP) == expected


def test_shape_and_dtype():
    spec = spectrogram_db(sine(500.0, n_samples=8000), window=WINDOW, hop=HOP)
    assert spec.shape == (55, WINDOW // 2 + 1)
    assert spec.dtype == np.float32
    short = spectrogram_db(np.zeros(WINDOW - 1, dtype=np.float32), window=WINDOW, hop=HOP)
    assert short.shape == (0, WINDOW // 2 + 1)


def test_frame_k_is_the_window_starting_at_k_times_hop():
    rng = np.random.default_rng(0)
    samples = rng.uniform(-0.5, 0.5, 6000).astype(np.float32)
    spec = spectrogram_db(samples, window=WINDOW, hop=HOP)
    for k in (0, 7, len(spec) - 1):
        alone = spectrogram_db(samples[k * HOP : k * HOP + WINDOW], window=WINDOW, hop=HOP)
        assert alone.shape == (1, WINDOW // 2 + 1)
        np.testing.assert_allclose(spec[k], alone[0], atol=1e-3)


def test_long_signal_computed_in_blocks_equals_its_parts():
    # More frames than one internal FFT block, split on the hop grid.
    rng = np.random.default_rng(1)
    samples = rng.uniform(-0.5, 0.5, HOP * 2500 + WINDOW).astype(np.float32)
    whole = spectrogram_db(samples, window=WINDOW, hop=HOP)
    split_frame = 1300
    first = spectrogram_db(samples[: (split_frame - 1) * HOP + WINDOW], window=WINDOW, hop=HOP)
    second = spectrogram_db(samples[split_frame * HOP :], window=WINDOW, hop=HOP)
    assert len(whole) == len(first) + len(second) == 2501
    np.testing.assert_allclose(whole, np.concatenate([first, second]), atol=1e-3)
