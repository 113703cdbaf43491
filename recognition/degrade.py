"""Reproducible audio degradations (noise, phone through the air, lossy codecs, speed) for evaluation."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy.signal import butter, correlate, fftconvolve, resample_poly, sosfiltfilt

from .engine.audio import ffmpeg_executable, float_to_pcm16, pcm16_to_float
from .engine.resample import resample

# Amplitude falls by 60 dB, a factor of 1000, over one RT60: ln(1000) nepers.
_RT60_DECAY_NEPERS = float(np.log(1000.0))
# Early reflections arrive a few ms after the direct sound; before that the room is silent.
ROOM_PRE_DELAY_S = 0.004
# A phone a couple of metres from a loudspeaker in a living room is near the critical distance,
# where direct and reverberant energy are about equal.
DIRECT_TO_REVERB_DB = 0.0

PHONE_FILTER_ORDER = 4
# The band edge must stay clear of Nyquist for butter() to give a stable, meaningful filter;
# at 8000 Hz this turns the 6 kHz default into 3.6 kHz.
PHONE_MAX_BAND_FRACTION = 0.9
# Headroom left by the phone's gain control, so a following codec stage does not clip.
PHONE_PEAK = 0.9

# Encoder delays (mp3 without a gapless header, AAC in ADTS) are up to a few thousand samples;
# half a second covers them even at 8000 Hz.
CODEC_MAX_LAG_S = 0.5
# Long enough that a melody does not repeat within it, so the delay estimate is unambiguous.
CODEC_ALIGN_WINDOW_S = 2.0


def pink_noise(n_samples: int, *, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise: float32 [shape=(n_samples,)], zero mean, unit RMS.

    White Gaussian noise is shaped in the frequency domain by 1/sqrt(f), so power falls by
    10 dB per decade at any sample rate.  Unit RMS means peaks well above 1: scale it before
    use (add_noise does).
    """
    if n_samples <= 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    bins = np.arange(len(spectrum), dtype=np.float64)
    bins[0] = np.inf  # no DC: the noise has zero mean
    noise = np.fft.irfft(spectrum / np.sqrt(bins), n=n_samples)
    noise -= noise.mean()
    rms = np.sqrt(np.mean(noise**2))
    if rms == 0:  # a single sample has only DC
        return np.zeros(n_samples, dtype=np.float32)
    return (noise / rms).astype(np.float32)


def add_noise(samples: np.ndarray, noise: np.ndarray, *, snr_db: float) -> np.ndarray:
    """Mix noise into samples at snr_db relative to the samples' RMS.

    samples, noise: float [shape=(n_samples,)].  Returns float32 [shape=(n_samples,)] in
    [-1, 1].  If the mix would exceed full scale it is scaled down as a whole, which keeps the
    SNR.  A silent signal has no level to set the noise against and comes back unchanged.
    """
    signal = _mono(samples).astype(np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if noise.shape != signal.shape:
        raise ValueError(f"noise has shape {noise.shape}, samples have {signal.shape}")
    signal_rms = np.sqrt(np.mean(signal**2)) if len(signal) else 0.0
    if signal_rms == 0:
        return signal.astype(np.float32)
    noise_rms = np.sqrt(np.mean(noise**2))
    if noise_rms == 0:
        raise ValueError("noise is silent: no gain gives the requested SNR")
    gain = signal_rms / (noise_rms * 10 ** (snr_db / 20))
    return _within_full_scale(signal + gain * noise)


def add_pink_noise(samples: np.ndarray, *, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """samples (float [shape=(n_samples,)]) plus pink noise at snr_db: float32, same shape."""
    samples = _mono(samples)
    return add_noise(samples, pink_noise(len(samples), rng=rng), snr_db=snr_db)


def room_impulse_response(*, sample_rate_hz: int, rt60_s: float = 0.3, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room: float32 [shape=(n_taps,)], n_taps = max(1, round(rt60_s * sample_rate_hz)).

    A direct-path impulse at tap 0 (so convolving adds no delay), then noise decaying
    exponentially by 60 dB over rt60_s, starting after ROOM_PRE_DELAY_S, with the direct and
    reverberant energies in the ratio DIRECT_TO_REVERB_DB.  Normalised to unit energy, so a
    broadband signal keeps about its RMS through the room.
    """
    n_taps = max(1, int(round(rt60_s * sample_rate_hz)))
    response = np.zeros(n_taps, dtype=np.float64)
    response[0] = 1.0
    first_tail_tap = max(1, int(round(ROOM_PRE_DELAY_S * sample_rate_hz)))
    if n_taps > first_tail_tap:
        time_s = np.arange(first_tail_tap, n_taps) / sample_rate_hz
        tail = rng.standard_normal(len(time_s)) * np.exp(-_RT60_DECAY_NEPERS * time_s / rt60_s)
        tail_energy = np.sum(tail**2)
        if tail_energy > 0:
            response[first_tail_tap:] = tail * np.sqrt(10 ** (-DIRECT_TO_REVERB_DB / 10) / tail_energy)
    return (response / np.sqrt(np.sum(response**2))).astype(np.float32)


def phone(
    samples: np.ndarray,
    *,
    sample_rate_hz: int,
    rng: np.random.Generator,
    low_hz: float = 150.0,
    high_hz: float = 6000.0,
    rt60_s: float = 0.3,
    snr_db: float = 10.0,
) -> np.ndarray:
    """A phone recording a loudspeaker across a room: float32 [shape=(n_samples,)], same length.

    The sound is reverberated by room_impulse_response(rt60_s), the room's pink background
    noise is added at snr_db (measured in the room, over the full band), then the phone's
    microphone keeps low_hz..high_hz (Butterworth band-pass run forwards and backwards, so
    nothing is delayed).  The band-pass comes last because it shapes the noise too: a phone
    does not pick up the rumble below its band whatever its source.  high_hz is lowered to
    PHONE_MAX_BAND_FRACTION of Nyquist when the rate cannot hold it.  The result is
    normalised to a peak of PHONE_PEAK, as a phone's gain control would.
    """
    signal = _mono(samples).astype(np.float64)
    if len(signal) == 0:
        return signal.astype(np.float32)
    high_hz = min(high_hz, PHONE_MAX_BAND_FRACTION * sample_rate_hz / 2)
    if not 0 < low_hz < high_hz:
        raise ValueError(f"phone band {low_hz}..{high_hz} Hz is empty at {sample_rate_hz} Hz")
    room = room_impulse_response(sample_rate_hz=sample_rate_hz, rt60_s=rt60_s, rng=rng)
    reverberant = fftconvolve(signal, room)[: len(signal)]
    noisy = add_pink_noise(reverberant, snr_db=snr_db, rng=rng)
    sos = butter(PHONE_FILTER_ORDER, [low_hz, high_hz], btype="bandpass", fs=sample_rate_hz, output="sos")
    heard = sosfiltfilt(sos, noisy.astype(np.float64))
    peak = np.max(np.abs(heard))
    if peak == 0:
        return heard.astype(np.float32)
    return (heard * (PHONE_PEAK / peak)).astype(np.float32)


class _Codec(NamedTuple):
    muxer: str  # ffmpeg's output format name
    encoder: str
    demuxer: str  # ffmpeg's input format name, which is not always the muxer's
    decoder: str  # naming the decoder spares pydub an ffprobe run


CODECS = {
    "mp3": _Codec("mp3", "libmp3lame", "mp3", "mp3"),
    "ogg": _Codec("ogg", "libvorbis", "ogg", "vorbis"),
    "opus": _Codec("opus", "libopus", "ogg", "opus"),
    "aac": _Codec("adts", "aac", "aac", "aac"),
}


def codec(samples: np.ndarray, *, sample_rate_hz: int, fmt: str = "mp3", bitrate_kbps: int = 32) -> np.ndarray:
    """Encode with a real lossy codec through ffmpeg and decode again: float32 [shape=(n_samples,)].

    fmt is one of CODECS.  The output is at sample_rate_hz (Opus decodes at 48 kHz and is
    resampled back) and time-aligned with the input: the encoder delay, which ffmpeg removes
    for mp3 and Ogg but not for AAC in ADTS, is found by cross-correlation and cut off, and
    the end is trimmed or zero-padded to the input's length.  Input beyond [-1, 1] is clipped
    by the 16-bit conversion.  Some formats refuse some rate and bitrate pairs (Vorbis at
    8000 Hz wants a low bitrate); ffmpeg's reason is in the CouldntEncodeError.
    """
    if fmt not in CODECS:
        raise ValueError(f"unknown codec format {fmt!r}; known formats: {', '.join(sorted(CODECS))}")
    signal = _mono(samples)
    if len(signal) == 0:
        return signal.copy()
    chosen = CODECS[fmt]
    ffmpeg_executable()  # points pydub at the same ffmpeg as the decoder
    from pydub import AudioSegment

    original = AudioSegment(data=float_to_pcm16(signal), sample_width=2, frame_rate=sample_rate_hz, channels=1)
    encoded = io.BytesIO()
    original.export(encoded, format=chosen.muxer, codec=chosen.encoder, bitrate=f"{bitrate_kbps}k")
    encoded.seek(0)
    decoded = AudioSegment.from_file(encoded, format=chosen.demuxer, codec=chosen.decoder)
    decoded = decoded.set_channels(1).set_sample_width(2)
    heard = pcm16_to_float(decoded.raw_data)
    if decoded.frame_rate != sample_rate_hz:
        heard = resample(heard, in_rate_hz=decoded.frame_rate, out_rate_hz=sample_rate_hz)
    lag = _delay_samples(signal, heard, sample_rate_hz=sample_rate_hz)
    aligned = heard[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag, dtype=np.float32), heard])
    out = np.zeros(len(signal), dtype=np.float32)
    kept = min(len(signal), len(aligned))
    out[:kept] = aligned[:kept]
    return out


def _delay_samples(reference: np.ndarray, delayed: np.ndarray, *, sample_rate_hz: int) -> int:
    """How many samples later `delayed` starts than `reference` (negative: earlier).

    The reference's opening CODEC_ALIGN_WINDOW_S is slid over `delayed` within
    +-CODEC_MAX_LAG_S; the lag with the highest correlation normalised by the energy under
    the window wins.  Raw correlation would favour louder stretches over the right one.
    """
    max_lag = int(CODEC_MAX_LAG_S * sample_rate_hz)
    template = reference[: int(CODEC_ALIGN_WINDOW_S * sample_rate_hz)].astype(np.float64)
    if not np.any(template):
        return 0
    window = len(template)
    searched = np.zeros(window + 2 * max_lag, dtype=np.float64)
    available = delayed[: window + max_lag]
    searched[max_lag : max_lag + len(available)] = available
    similarity = correlate(searched, template, mode="valid", method="fft")  # [shape=(2*max_lag+1,)]
    cumulative = np.concatenate([[0.0], np.cumsum(searched**2)])
    energy = cumulative[window : window + len(similarity)] - cumulative[: len(similarity)]
    # The floor keeps near-silent stretches (and FFT round-off over the padding) from winning.
    floor = 1e-6 * np.sum(template**2)
    score = similarity / np.sqrt(np.maximum(energy, floor))
    return int(np.argmax(score)) - max_lag


def speed(samples: np.ndarray, *, percent: float) -> np.ndarray:
    """Play percent faster, pitch and tempo together, like a record: float32 [shape=(n_out,)].

    Resampled by 1 / (1 + percent/100), taken as a fraction with a denominator of at most
    1000, so n_out is about n_samples / (1 + percent/100) and every frequency rises by that
    factor at the same sample rate.  Negative percent is slower and longer.
    """
    signal = _mono(samples)
    if percent <= -100:
        raise ValueError(f"speed change of {percent}% would stop or reverse time")
    ratio = Fraction(100.0 / (100.0 + percent)).limit_denominator(1000)
    if ratio == 1:
        return signal.copy()
    changed = resample_poly(signal.astype(np.float64), ratio.numerator, ratio.denominator)
    # The anti-aliasing filter can ring slightly past full scale.
    return np.clip(changed, -1.0, 1.0).astype(np.float32)


def cut_clip(samples: np.ndarray, *, sample_rate_hz: int, start_s: float, duration_s: float) -> np.ndarray:
    """samples[start_s : start_s + duration_s] as a float32 copy [shape=(round(duration_s * rate),)].

    Raises ValueError if the clip does not lie wholly inside the signal, rather than returning
    a shorter clip that would quietly skew a benchmark.
    """
    signal = _mono(samples)
    start = int(round(start_s * sample_rate_hz))
    stop = start + int(round(duration_s * sample_rate_hz))
    if start < 0 or stop <= start or stop > len(signal):
        raise ValueError(
            f"clip {start_s} s + {duration_s} s is outside the signal of {len(signal) / sample_rate_hz:.3f} s"
        )
    return signal[start:stop].copy()


def _clean(samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    return _mono(samples).copy()


def _noise(samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, snr_db: float = 5.0) -> np.ndarray:
    return add_pink_noise(samples, snr_db=snr_db, rng=rng)


def _phone(samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, **options) -> np.ndarray:
    return phone(samples, sample_rate_hz=sample_rate_hz, rng=rng, **options)


def _codec(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, fmt: str = "mp3", bitrate_kbps: int = 32
) -> np.ndarray:
    return codec(samples, sample_rate_hz=sample_rate_hz, fmt=fmt, bitrate_kbps=bitrate_kbps)


def _speed(samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, percent: float = 2.0) -> np.ndarray:
    return speed(samples, percent=percent)


# name -> callable(samples, *, sample_rate_hz, rng, **options); every one returns float32 mono.
CONDITIONS: dict[str, Callable[..., np.ndarray]] = {
    "clean": _clean,
    "noise": _noise,
    "phone": _phone,
    "codec": _codec,
    "speed": _speed,
}


def apply_condition(
    name: str, samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, **options
) -> np.ndarray:
    """Degrade samples (float [shape=(n_samples,)]) by the named condition in CONDITIONS.

    options are that condition's keyword arguments (snr_db for "noise", bitrate_kbps for
    "codec", percent for "speed", ...).  Raises ValueError for an unknown name.
    """
    try:
        condition = CONDITIONS[name]
    except KeyError:
        raise ValueError(f"unknown condition {name!r}; known conditions: {', '.join(CONDITIONS)}") from None
    return condition(samples, sample_rate_hz=sample_rate_hz, rng=rng, **options)


def _mono(samples: np.ndarray) -> np.ndarray:
    signal = np.asarray(samples, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"expected mono samples of shape (n_samples,), got shape {signal.shape}")
    return signal


def _within_full_scale(mix: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(mix)) if len(mix) else 0.0
    if peak > 1.0:
        mix = mix / peak
    return mix.astype(np.float32)
