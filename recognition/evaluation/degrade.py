"""Reproducible audio degradations (noise, phone, codecs, speed, tempo, pitch, crowd) for evaluation."""

from __future__ import annotations

import argparse
import functools
import inspect
import io
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.signal import butter, correlate, fftconvolve, resample_poly, sosfiltfilt

from recognition.engine.audio import ffmpeg_executable, float_to_pcm16, pcm16_to_float
from recognition.engine.resample import resample

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


def room_impulse_response(
    *, sample_rate_hz: int, rt60_s: float = 0.3, rng: np.random.Generator
) -> np.ndarray:
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


def codec(
    samples: np.ndarray, *, sample_rate_hz: int, fmt: str = "mp3", bitrate_kbps: int = 32
) -> np.ndarray:
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

    original = AudioSegment(
        data=float_to_pcm16(signal), sample_width=2, frame_rate=sample_rate_hz, channels=1
    )
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


def _ffmpeg_filter(samples: np.ndarray, *, sample_rate_hz: int, audio_filter: str) -> np.ndarray:
    """Run float32 mono samples through one ffmpeg audio filter chain: float32 at the same rate."""
    signal = _mono(samples)
    if len(signal) == 0:
        return signal.copy()
    command = [
        ffmpeg_executable(), "-v", "error", "-nostdin",
        "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "pipe:0",
        "-af", audio_filter, "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "pipe:1",
    ]  # fmt: skip
    done = subprocess.run(command, input=signal.tobytes(), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"ffmpeg filter {audio_filter!r} failed: {done.stderr.decode(errors='replace').strip()}"
        )
    return np.clip(np.frombuffer(done.stdout, dtype=np.float32), -1.0, 1.0).astype(np.float32)


def _atempo_chain(factor: float) -> str:
    # One atempo instance accepts 0.5..100; chaining keeps any factor in range.
    stages = []
    while factor < 0.5:
        stages.append("atempo=0.5")
        factor /= 0.5
    stages.append(f"atempo={factor:.6f}")
    return ",".join(stages)


def tempo(samples: np.ndarray, *, sample_rate_hz: int, percent: float) -> np.ndarray:
    """Play percent faster with the pitch kept (ffmpeg's atempo): float32 [shape=(n_out,)].

    n_out is about n_samples / (1 + percent/100); every frequency stays where it was.
    atempo's overlap-add starts its output about 20 ms early, well inside an offset tolerance.
    """
    if percent <= -100:
        raise ValueError(f"tempo change of {percent}% would stop or reverse time")
    if percent == 0:
        return _mono(samples).copy()
    return _ffmpeg_filter(
        samples, sample_rate_hz=sample_rate_hz, audio_filter=_atempo_chain(1 + percent / 100)
    )


@functools.cache
def _has_rubberband() -> bool:
    listed = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-filters"], capture_output=True, text=True, check=False
    )
    return any(line.split()[1:2] == ["rubberband"] for line in listed.stdout.splitlines())


def pitch(samples: np.ndarray, *, sample_rate_hz: int, percent: float) -> np.ndarray:
    """Shift every frequency up by percent with the tempo kept: float32, about the same length.

    ffmpeg's rubberband filter where the build has it; otherwise the sound is played
    faster by relabelling its rate (asetrate), brought back to the rate (aresample) and
    slowed to its old tempo (atempo), which smears transients more.
    """
    if percent <= -100:
        raise ValueError(f"pitch change of {percent}% would leave no frequency")
    factor = 1 + percent / 100
    if percent == 0:
        return _mono(samples).copy()
    if _has_rubberband():
        chain = f"rubberband=pitch={factor:.6f}"
    else:
        chain = (
            f"asetrate={sample_rate_hz * factor:.3f},aresample={sample_rate_hz},{_atempo_chain(1 / factor)}"
        )
    return _ffmpeg_filter(samples, sample_rate_hz=sample_rate_hz, audio_filter=chain)


# The crowd: espeak-ng talkers, each reading its own fixed lines in a loop.  (voice, words a
# minute, pitch 0-99): languages and variants differ so the voices are told apart, as in a bar.
TALKERS = (
    ("en-us+m3", 165, 40),
    ("en-gb+f2", 175, 70),
    ("de+m1", 150, 35),
    ("fr+f4", 170, 65),
    ("es+m2", 160, 50),
    ("it+f1", 155, 75),
)
TALKER_LINES = (
    "Did you see the match last night? I could not believe the second half, honestly.",
    "We should book the table for eight, there are more of us than last time.",
    "Ich habe den Zug verpasst und musste eine ganze Stunde am Bahnhof warten.",
    "Tu as goûté le fromage qu'ils ont ramené du marché ce matin?",
    "Mañana vamos a la playa si no llueve, ¿quieres venir con nosotros?",
    "Non ricordo dove ho lasciato le chiavi della macchina, forse in cucina.",
)
# Overlapping talkers in one crowd clip, and how far each one's level strays from the rest.
CROWD_TALKERS = 4
CROWD_LEVEL_SPREAD_DB = 3.0
TALKER_PAUSE_S = 0.4
ESPEAK_RATE_HZ = 22050  # espeak-ng's own output rate


class SpeechUnavailable(RuntimeError):
    """espeak-ng, which the crowd condition speaks with, is not installed or failed."""


@functools.cache
def _talker_loop(index: int) -> np.ndarray:
    """Talker `index` reading its line, then a pause: float32 at ESPEAK_RATE_HZ, unit RMS."""
    voice, words_per_minute, pitch_0_99 = TALKERS[index]
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechUnavailable("the crowd condition speaks with espeak-ng: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        command = [
            espeak,
            "-v",
            voice,
            "-s",
            str(words_per_minute),
            "-p",
            str(pitch_0_99),
            "-w",
            str(path),
            TALKER_LINES[index],
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not path.exists():
            raise SpeechUnavailable(f"espeak-ng failed for voice {voice}: {done.stderr.strip()}")
        with wave.open(str(path), "rb") as speech:
            if speech.getsampwidth() != 2 or speech.getnchannels() != 1:
                raise SpeechUnavailable(
                    f"espeak-ng wrote an unexpected WAV ({speech.getsampwidth()} bytes, {speech.getnchannels()} channels)"
                )
            rate_hz = speech.getframerate()
            voiced = pcm16_to_float(speech.readframes(speech.getnframes()))
    if rate_hz != ESPEAK_RATE_HZ:
        voiced = resample(voiced, in_rate_hz=rate_hz, out_rate_hz=ESPEAK_RATE_HZ)
    loop = np.concatenate([voiced, np.zeros(int(TALKER_PAUSE_S * ESPEAK_RATE_HZ), dtype=np.float32)])
    return (loop / np.sqrt(np.mean(loop.astype(np.float64) ** 2))).astype(np.float32)


def check_speech() -> None:
    """Raise SpeechUnavailable now, rather than at the first crowd clip, if espeak-ng cannot speak."""
    for index in range(len(TALKERS)):
        _talker_loop(index)


@functools.lru_cache(maxsize=16)
def _talker_loop_at(index: int, sample_rate_hz: int) -> np.ndarray:
    loop = _talker_loop(index)
    if sample_rate_hz == ESPEAK_RATE_HZ:
        return loop
    return resample(loop, in_rate_hz=ESPEAK_RATE_HZ, out_rate_hz=sample_rate_hz)


def babble(
    n_samples: int, *, sample_rate_hz: int, rng: np.random.Generator, talkers: int = CROWD_TALKERS
) -> np.ndarray:
    """People talking at once: float32 [shape=(n_samples,)], unit RMS (0 for n_samples 0).

    talkers of the TALKERS (chosen by rng) each read their line in a loop from a random
    point, at levels within +-CROWD_LEVEL_SPREAD_DB of each other.
    """
    if not 1 <= talkers <= len(TALKERS):
        raise ValueError(f"talkers must be 1..{len(TALKERS)}, got {talkers}")
    mix = np.zeros(n_samples, dtype=np.float64)
    if n_samples == 0:
        return mix.astype(np.float32)
    for index in rng.choice(len(TALKERS), size=talkers, replace=False):
        loop = _talker_loop_at(int(index), sample_rate_hz)
        start = int(rng.integers(len(loop)))
        positions = (start + np.arange(n_samples)) % len(loop)
        mix += 10 ** (rng.uniform(-CROWD_LEVEL_SPREAD_DB, CROWD_LEVEL_SPREAD_DB) / 20) * loop[positions]
    return (mix / np.sqrt(np.mean(mix**2))).astype(np.float32)


def crowd_room(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, snr_db: float = 0.0
) -> np.ndarray:
    """The music with people talking over it in the room, at snr_db (music to speech): float32."""
    signal = _mono(samples)
    return add_noise(signal, babble(len(signal), sample_rate_hz=sample_rate_hz, rng=rng), snr_db=snr_db)


def crowd(
    samples: np.ndarray,
    *,
    sample_rate_hz: int,
    rng: np.random.Generator,
    snr_db: float = 0.0,
    **phone_options,
) -> np.ndarray:
    """A phone recording music in a room full of talk: crowd_room, then the phone chain."""
    room = crowd_room(samples, sample_rate_hz=sample_rate_hz, rng=rng, snr_db=snr_db)
    return phone(room, sample_rate_hz=sample_rate_hz, rng=rng, **phone_options)


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


def _noise(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, snr_db: float = 5.0
) -> np.ndarray:
    return add_pink_noise(samples, snr_db=snr_db, rng=rng)


def _phone(samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, **options) -> np.ndarray:
    return phone(samples, sample_rate_hz=sample_rate_hz, rng=rng, **options)


def _codec(
    samples: np.ndarray,
    *,
    sample_rate_hz: int,
    rng: np.random.Generator,
    fmt: str = "mp3",
    bitrate_kbps: int = 32,
) -> np.ndarray:
    return codec(samples, sample_rate_hz=sample_rate_hz, fmt=fmt, bitrate_kbps=bitrate_kbps)


def _speed(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, percent: float = 2.0
) -> np.ndarray:
    return speed(samples, percent=percent)


def _tempo(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, percent: float = 5.0
) -> np.ndarray:
    return tempo(samples, sample_rate_hz=sample_rate_hz, percent=percent)


def _pitch(
    samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, percent: float = 3.0
) -> np.ndarray:
    return pitch(samples, sample_rate_hz=sample_rate_hz, percent=percent)


def _crowd(
    samples: np.ndarray,
    *,
    sample_rate_hz: int,
    rng: np.random.Generator,
    snr_db: float = 0.0,
    **phone_options,
) -> np.ndarray:
    return crowd(samples, sample_rate_hz=sample_rate_hz, rng=rng, snr_db=snr_db, **phone_options)


# name -> callable(samples, *, sample_rate_hz, rng, **options); every one returns float32 mono.
CONDITIONS: dict[str, Callable[..., np.ndarray]] = {
    "clean": _clean,
    "noise": _noise,
    "phone": _phone,
    "codec": _codec,
    "speed": _speed,
    "tempo": _tempo,
    "pitch": _pitch,
    "crowd": _crowd,
}
# The option a condition label's factor sets: "speed:-5" is speed with percent=-5.
FACTORS = {"noise": "snr_db", "speed": "percent", "tempo": "percent", "pitch": "percent", "crowd": "snr_db"}
# Conditions under which the clip's time runs 1 + percent/100 times as fast as the song's.
TIME_SCALING = ("speed", "tempo")


def parse_condition(label: str) -> tuple[str, dict]:
    """ "speed:-5" -> ("speed", {"percent": -5.0}); "phone" -> ("phone", {}).

    Raises ValueError for an unknown name, a factor on a condition that takes none, or a
    factor that is not a number.
    """
    name, _, factor = str(label).partition(":")
    if name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; known conditions: {', '.join(CONDITIONS)}")
    if not factor:
        return name, {}
    if name not in FACTORS:
        raise ValueError(f"condition {name!r} takes no factor (conditions with one: {', '.join(FACTORS)})")
    try:
        value = float(factor)
    except ValueError:
        raise ValueError(f"the factor of {label!r} is not a number") from None
    if not np.isfinite(value) or (FACTORS[name] == "percent" and value <= -100):
        raise ValueError(f"the factor of {label!r} is out of range")
    return name, {FACTORS[name]: value}


def condition_label(label: str) -> str:
    """The canonical spelling of a condition label: "speed:3" -> "speed:+3", "noise:05" -> "noise:5"."""
    name, options = parse_condition(label)
    if not options:
        return name
    value = options[FACTORS[name]]
    return f"{name}:{value:+g}" if FACTORS[name] == "percent" else f"{name}:{value:g}"


def condition_argument(label: str) -> str:
    """argparse type of --conditions: the canonical label ("speed:+3"), or argparse's error."""
    try:
        return condition_label(label)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {label!r} ({exc}; a factor is written as in speed:-5)"
        ) from None


def condition_options(label: str, defaults: dict[str, dict] | None = None) -> tuple[str, dict]:
    """(name, keyword options) of a label: the label's factor over defaults[name]."""
    name, options = parse_condition(label)
    return name, {**(defaults or {}).get(name, {}), **options}


def speed_ratio(label: str, **options) -> float:
    """How many times faster the clip's time runs than the song's under this condition.

    1.03 for "speed:+3" (resampled) and 1.05 for "tempo:+5" (time-stretched): both scale the
    time axis.  1.0 for a pitch shift, which scales frequency only, and for everything else.
    A bare "speed" or "tempo" takes its percent from options, else the condition's default.
    """
    name, options = condition_options(label, {label.partition(":")[0]: options})
    if name not in TIME_SCALING:
        return 1.0
    percent = options.get("percent", condition_default(name, "percent"))
    return 1.0 + percent / 100.0


def condition_default(condition: str, option: str):
    """The default of one condition's option (e.g. "noise", "snr_db"), as CONDITIONS states it."""
    return inspect.signature(CONDITIONS[condition]).parameters[option].default


def apply_condition(
    name: str, samples: np.ndarray, *, sample_rate_hz: int, rng: np.random.Generator, **options
) -> np.ndarray:
    """Degrade samples (float [shape=(n_samples,)]) by a condition in CONDITIONS.

    name is a bare name ("speed") or a label with its factor ("speed:-5", which wins over
    options).  options are that condition's keyword arguments (snr_db for "noise" and
    "crowd", bitrate_kbps for "codec", percent for "speed", "tempo" and "pitch", ...).
    Raises ValueError for an unknown name.
    """
    bare, options = condition_options(name, {name.partition(":")[0]: options})
    return CONDITIONS[bare](samples, sample_rate_hz=sample_rate_hz, rng=rng, **options)


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
