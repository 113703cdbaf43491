"""Stream resampler: chunk invariance, length, pitch, anti-aliasing, and no delay."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.resample import StreamResampler, resample
from tests.audio_fixtures import synth_song

RATE_PAIRS = [(44100, 8000), (16000, 8000), (48000, 8000), (8000, 16000)]


def resample_in_chunks(samples, sizes, *, in_rate_hz, out_rate_hz):
    resampler = StreamResampler(in_rate_hz, out_rate_hz)
    parts, start, i = [], 0, 0
    while start < len(samples):
        size = int(sizes[i % len(sizes)])
        parts.append(resampler.push(samples[start : start + size]))
        start, i = start + size, i + 1
    parts.append(resampler.flush())
    return np.concatenate(parts)


def tone(freq_hz, *, rate_hz, duration_s=1.0, amplitude=0.5):
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def rms_db(samples):
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(samples, dtype=np.float64) ** 2)))


def middle(samples):
    return samples[len(samples) // 4 : 3 * len(samples) // 4]


@pytest.mark.parametrize(("in_rate_hz", "out_rate_hz"), RATE_PAIRS)
def test_random_chunk_sizes_give_exactly_the_one_call_output(in_rate_hz, out_rate_hz):
    samples = synth_song(41, duration_s=2.0, sample_rate_hz=in_rate_hz)
    sizes = np.random.default_rng(in_rate_hz + out_rate_hz).integers(0, 4000, size=100)
    chunked = resample_in_chunks(samples, sizes, in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz)
    whole = resample(samples, in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz)
    assert chunked.dtype == whole.dtype == np.float32
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.parametrize(("in_rate_hz", "out_rate_hz"), RATE_PAIRS)
def test_one_sample_chunks_give_exactly_the_one_call_output(in_rate_hz, out_rate_hz):
    samples = synth_song(42, duration_s=0.05, sample_rate_hz=in_rate_hz)
    chunked = resample_in_chunks(samples, [1], in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz)
    np.testing.assert_array_equal(chunked, resample(samples, in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz))


@pytest.mark.parametrize(("in_rate_hz", "out_rate_hz"), RATE_PAIRS)
@pytest.mark.parametrize("n_samples", [1, 5, 441, 1000, 44101])
def test_output_length_is_ceil_of_input_length_times_rate_ratio(in_rate_hz, out_rate_hz, n_samples):
    out = resample(np.zeros(n_samples, dtype=np.float32), in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz)
    assert len(out) == -(-n_samples * out_rate_hz // in_rate_hz)


@pytest.mark.parametrize(("in_rate_hz", "out_rate_hz"), RATE_PAIRS)
def test_1_khz_tone_stays_1_khz_at_the_same_level(in_rate_hz, out_rate_hz):
    source = tone(1000.0, rate_hz=in_rate_hz)
    out = middle(resample(source, in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz))
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    peak_hz = np.argmax(spectrum) * out_rate_hz / len(out)
    assert peak_hz == pytest.approx(1000.0, abs=out_rate_hz / len(out))
    assert rms_db(out) == pytest.approx(rms_db(source), abs=0.1)


@pytest.mark.parametrize(
    ("in_rate_hz", "freq_hz"), [(44100, 5000.0), (48000, 6000.0), (16000, 5000.0), (44100, 15000.0)]
)
def test_tone_above_the_output_nyquist_is_attenuated_by_40_db(in_rate_hz, freq_hz):
    source = tone(freq_hz, rate_hz=in_rate_hz)
    out = middle(resample(source, in_rate_hz=in_rate_hz, out_rate_hz=8000))
    assert rms_db(out) - rms_db(source) <= -40.0


def test_output_has_no_delay():
    # Upsampling by 2: every other output sample is an input instant, so it equals the input.
    source = tone(300.0, rate_hz=8000)
    out = resample(source, in_rate_hz=8000, out_rate_hz=16000)
    np.testing.assert_allclose(middle(out[::2]), middle(source), atol=2e-3)


def test_identity_rate_returns_the_input_unchanged():
    source = synth_song(43, duration_s=0.5)
    resampler = StreamResampler(8000, 8000)
    out = resampler.push(source)
    np.testing.assert_array_equal(out, source)
    assert out is not source
    assert len(resampler.flush()) == 0
    np.testing.assert_array_equal(resample(source, in_rate_hz=8000, out_rate_hz=8000), source)


def test_empty_input_gives_empty_output():
    assert len(resample(np.zeros(0, dtype=np.float32), in_rate_hz=44100, out_rate_hz=8000)) == 0


@pytest.mark.parametrize(("in_rate_hz", "out_rate_hz"), [(0, 8000), (8000, 0), (-44100, 8000)])
def test_non_positive_rate_is_refused(in_rate_hz, out_rate_hz):
    with pytest.raises(ValueError, match="positive"):
        StreamResampler(in_rate_hz, out_rate_hz)
