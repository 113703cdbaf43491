"""The degradations do what their names say: SNR, spectrum, band, alignment, speed, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate, welch

from recognition.evaluation import degrade
from tests.audio_fixtures import synth_song

RATE_HZ = 22050


def tone_mix(duration_s: float, *, sample_rate_hz: int = RATE_HZ, seed: int = 0) -> np.ndarray:
    """Three tones and a little seeded noise, peak about 0.3: float32 [shape=(n,)]."""
    time_s = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    mix = sum(
        amplitude * np.sin(2 * np.pi * freq_hz * time_s)
        for freq_hz, amplitude in ((440, 0.1), (1234, 0.1), (3100, 0.05))
    )
    mix += 0.01 * np.random.default_rng(seed).standard_normal(len(time_s))
    return mix.astype(np.float32)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    return 20 * np.log10(rms(signal) / rms(noise))


def band_fraction(
    samples: np.ndarray, low_hz: float, high_hz: float, *, sample_rate_hz: int = RATE_HZ
) -> float:
    """Share of the signal's power between low_hz and high_hz."""
    freqs_hz, power = welch(samples, fs=sample_rate_hz, nperseg=4096)
    return float(power[(freqs_hz >= low_hz) & (freqs_hz <= high_hz)].sum() / power.sum())


def lag_of_peak(reference: np.ndarray, other: np.ndarray) -> int:
    """Lag in samples at which `other` best matches `reference` (positive: other is late)."""
    similarity = correlate(other.astype(np.float64), reference.astype(np.float64), mode="full", method="fft")
    return int(np.argmax(similarity)) - (len(reference) - 1)


@pytest.mark.parametrize("requested_db", [0.0, 5.0, 20.0])
def test_add_pink_noise_reaches_requested_snr(requested_db):
    clean = tone_mix(2.0)
    noisy = degrade.add_pink_noise(clean, snr_db=requested_db, rng=np.random.default_rng(1))
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert abs(snr_db(clean, noisy - clean) - requested_db) < 0.5


def test_add_noise_scaled_down_to_full_scale_keeps_snr():
    loud = 0.9 * np.sin(2 * np.pi * 440 * np.arange(RATE_HZ) / RATE_HZ).astype(np.float32)
    noise = np.random.default_rng(2).standard_normal(RATE_HZ)
    mixed = degrade.add_noise(loud, noise, snr_db=3.0)
    assert np.max(np.abs(mixed)) <= 1.0
    # The mix is gain_s * loud + gain_n * noise; solve for both gains exactly.
    (gain_s, gain_n), *_ = np.linalg.lstsq(
        np.stack([loud, noise], axis=1), mixed.astype(np.float64), rcond=None
    )
    assert gain_s < 0.99  # it really was scaled down
    assert abs(snr_db(gain_s * loud, gain_n * noise) - 3.0) < 0.5


def test_add_noise_leaves_silence_unchanged():
    silence = np.zeros(1000, dtype=np.float32)
    out = degrade.add_noise(silence, np.ones(1000), snr_db=0.0)
    assert np.array_equal(out, silence)


def test_pink_noise_is_zero_mean_unit_rms_with_minus_10_db_per_decade():
    noise = degrade.pink_noise(1 << 17, rng=np.random.default_rng(3))
    assert noise.dtype == np.float32 and noise.shape == (1 << 17,)
    assert abs(float(noise.mean())) < 1e-3
    assert abs(rms(noise) - 1.0) < 1e-3
    freqs, power = welch(noise, fs=1.0, nperseg=4096)
    used = (freqs > 4 / 4096) & (freqs < 0.45)
    slope = np.polyfit(np.log10(freqs[used]), np.log10(power[used]), 1)[0]
    assert abs(slope - (-1.0)) < 0.1  # power per decade: -1 is -10 dB


def test_room_impulse_response_starts_with_direct_path_and_decays():
    response = degrade.room_impulse_response(sample_rate_hz=RATE_HZ, rt60_s=0.3, rng=np.random.default_rng(4))
    assert response.shape == (round(0.3 * RATE_HZ),)
    assert np.argmax(np.abs(response)) == 0
    assert abs(float(np.sum(response.astype(np.float64) ** 2)) - 1.0) < 1e-5
    early, late = response[200:1200], response[-1000:]
    assert rms(late) < 0.01 * rms(early)  # 60 dB down by RT60, so well past 40 dB


def test_phone_removes_energy_outside_its_band():
    white = (0.2 * np.random.default_rng(5).standard_normal(3 * RATE_HZ)).astype(np.float32)
    heard = degrade.phone(white, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(6))
    assert heard.shape == white.shape and heard.dtype == np.float32
    assert np.max(np.abs(heard)) <= 1.0
    below, above = (0, 100), (7200, RATE_HZ / 2)  # above: 1.2 times the 6 kHz cutoff
    assert band_fraction(heard, *below) < band_fraction(white, *below) / 10
    assert band_fraction(heard, *above) < band_fraction(white, *above) / 10


def test_phone_works_at_8000_hz_where_6_khz_is_past_nyquist():
    white = (0.2 * np.random.default_rng(5).standard_normal(3 * 8000)).astype(np.float32)
    heard = degrade.phone(white, sample_rate_hz=8000, rng=np.random.default_rng(6))
    assert heard.shape == white.shape and np.all(np.isfinite(heard))

    def fraction(samples, low_hz, high_hz):
        return band_fraction(samples, low_hz, high_hz, sample_rate_hz=8000)

    assert fraction(heard, 0, 100) < fraction(white, 0, 100) / 10
    # The cutoff was clamped to 3600 Hz, and the top of the band is still cut.
    assert fraction(heard, 3900, 4000) < fraction(white, 3900, 4000) / 3


@pytest.mark.parametrize("fmt", ["mp3", "aac", "opus"])
def test_codec_output_is_time_aligned_and_similar(fmt):
    # A melody, not a steady tone mix, so that a wrong alignment cannot also look right.
    original = synth_song(21, duration_s=3.0, sample_rate_hz=RATE_HZ)
    decoded = degrade.codec(
        original, sample_rate_hz=RATE_HZ, fmt=fmt, bitrate_kbps=64 if fmt == "aac" else 32
    )
    assert decoded.shape == original.shape and decoded.dtype == np.float32
    assert abs(lag_of_peak(original, decoded)) <= 0.005 * RATE_HZ
    assert np.corrcoef(original, decoded)[0, 1] > 0.9


def test_codec_keeps_a_tone_mix_and_changes_it():
    original = tone_mix(2.0)
    decoded = degrade.codec(original, sample_rate_hz=RATE_HZ)
    assert np.corrcoef(original, decoded)[0, 1] > 0.95
    assert not np.allclose(original, decoded, atol=1e-3)  # really went through a lossy codec


def test_codec_rejects_an_unknown_format():
    with pytest.raises(ValueError, match=r"'wma'.*mp3"):
        degrade.codec(tone_mix(0.5), sample_rate_hz=RATE_HZ, fmt="wma")


def test_speed_up_5_percent_shortens_and_raises_pitch():
    n = 2 * RATE_HZ
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(n) / RATE_HZ)).astype(np.float32)
    faster = degrade.speed(tone, percent=5.0)
    assert faster.dtype == np.float32
    assert abs(len(faster) - n / 1.05) <= 1
    spectrum = np.abs(np.fft.rfft(faster * np.hanning(len(faster))))
    peak_hz = np.argmax(spectrum) * RATE_HZ / len(faster)
    assert abs(peak_hz - 1050) < 2


def test_speed_down_lengthens():
    assert abs(len(degrade.speed(tone_mix(1.0), percent=-2.0)) - RATE_HZ / 0.98) <= 1


def test_cut_clip_takes_the_requested_seconds():
    ramp = np.arange(10 * 100, dtype=np.float32) / 1000
    clip = degrade.cut_clip(ramp, sample_rate_hz=100, start_s=2.5, duration_s=3.0)
    assert np.array_equal(clip, ramp[250:550])
    with pytest.raises(ValueError, match="outside"):
        degrade.cut_clip(ramp, sample_rate_hz=100, start_s=8.0, duration_s=3.0)


@pytest.mark.parametrize("name", list(degrade.CONDITIONS))
def test_every_condition_is_reproducible_by_seed(name):
    clip = synth_song(22, duration_s=1.5, sample_rate_hz=RATE_HZ)
    first = degrade.apply_condition(name, clip, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(7))
    again = degrade.apply_condition(name, clip, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(7))
    assert first.dtype == np.float32 and first.ndim == 1
    assert np.max(np.abs(first)) <= 1.0
    assert np.array_equal(first, again)
    if name in ("noise", "phone", "crowd"):
        other = degrade.apply_condition(name, clip, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(8))
        assert not np.array_equal(first, other)  # the seed really drives the randomness


def test_condition_options_reach_the_degradation():
    clip = tone_mix(1.0)
    noisy = degrade.apply_condition(
        "noise", clip, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(9), snr_db=15.0
    )
    assert abs(snr_db(clip, noisy - clip) - 15.0) < 0.5
    faster = degrade.apply_condition(
        "speed", clip, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(9), percent=10.0
    )
    assert abs(len(faster) - RATE_HZ / 1.1) <= 1


def test_unknown_condition_raises_naming_it_and_the_known_ones():
    with pytest.raises(ValueError, match=r"'underwater'.*clean.*noise.*phone.*codec.*speed"):
        degrade.apply_condition(
            "underwater", tone_mix(0.5), sample_rate_hz=RATE_HZ, rng=np.random.default_rng(0)
        )


def test_codec_aligns_a_crescendo_whose_loud_end_would_pull_a_raw_correlation():
    mix = tone_mix(3.0) + 0.05 * np.random.default_rng(10).standard_normal(3 * RATE_HZ)
    crescendo = (mix * np.linspace(0.05, 1.0, len(mix))).astype(np.float32)
    decoded = degrade.codec(crescendo, sample_rate_hz=RATE_HZ, fmt="aac", bitrate_kbps=64)
    assert abs(lag_of_peak(crescendo, decoded)) <= 0.005 * RATE_HZ
    assert np.corrcoef(crescendo, decoded)[0, 1] > 0.9


def tone(freq_hz: float, duration_s: float, *, sample_rate_hz: int = RATE_HZ) -> np.ndarray:
    return (
        0.3 * np.sin(2 * np.pi * freq_hz * np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz)
    ).astype(np.float32)


def peak_hz(samples: np.ndarray, *, sample_rate_hz: int = RATE_HZ) -> float:
    """The strongest frequency, to a tenth of an FFT bin (zero-padded 8 times)."""
    n_fft = 8 * len(samples)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n_fft))
    return float(np.argmax(spectrum) * sample_rate_hz / n_fft)


@pytest.mark.parametrize(
    "label, factor", [("speed:-5", 0.95), ("speed:-3", 0.97), ("speed:+3", 1.03), ("speed:+5", 1.05)]
)
def test_speed_label_scales_frequency_up_and_duration_down_by_its_factor(label, factor):
    original = tone(1000, 2.0)
    changed = degrade.apply_condition(label, original, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(0))
    assert abs(len(changed) - len(original) / factor) <= 1
    assert abs(peak_hz(changed) / 1000 - factor) < 0.001
    assert degrade.speed_ratio(label) == pytest.approx(factor)


@pytest.mark.parametrize("percent", [-5.0, 5.0])
def test_tempo_scales_duration_and_keeps_the_pitch(percent):
    original = tone(440, 3.0)
    stretched = degrade.apply_condition(
        f"tempo:{percent:+g}", original, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(0)
    )
    factor = 1 + percent / 100
    assert stretched.dtype == np.float32
    assert abs(len(stretched) - len(original) / factor) <= 0.01 * RATE_HZ
    middle = stretched[RATE_HZ // 2 : -RATE_HZ // 2]
    assert abs(peak_hz(middle) / 440 - 1) < 0.002
    assert degrade.speed_ratio(f"tempo:{percent:+g}") == pytest.approx(factor)


def test_tempo_starts_where_the_original_starts():
    # A click in silence: time-stretched, it must land at its stretched time (plus atempo's
    # small lead), so a clip's offset keeps meaning the song's time.
    clip = np.zeros(2 * RATE_HZ, dtype=np.float32)
    clip[RATE_HZ : RATE_HZ + 2205] = tone(1000, 0.1)
    stretched = degrade.tempo(clip, sample_rate_hz=RATE_HZ, percent=5.0)
    onset_s = np.argmax(np.abs(stretched) > 0.05) / RATE_HZ
    assert abs(onset_s - 1.0 / 1.05) < 0.03


@pytest.mark.parametrize("freq_hz", [440.0, 2500.0])
@pytest.mark.parametrize("percent", [-3.0, 3.0])
def test_pitch_scales_frequency_and_keeps_the_duration(freq_hz, percent):
    original = tone(freq_hz, 3.0)
    shifted = degrade.apply_condition(
        f"pitch:{percent:+g}", original, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(0)
    )
    assert shifted.dtype == np.float32
    assert abs(len(shifted) - len(original)) <= 0.01 * RATE_HZ
    middle = shifted[RATE_HZ // 2 : -RATE_HZ // 2]
    assert abs(peak_hz(middle) / freq_hz - (1 + percent / 100)) < 0.004
    assert degrade.speed_ratio(f"pitch:{percent:+g}") == 1.0  # the time axis is untouched


def test_babble_is_several_talkers_and_differs_by_seed():
    speech = degrade.babble(4 * RATE_HZ, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(11))
    again = degrade.babble(4 * RATE_HZ, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(11))
    other = degrade.babble(4 * RATE_HZ, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(12))
    assert speech.dtype == np.float32 and speech.shape == (4 * RATE_HZ,)
    assert np.array_equal(speech, again) and not np.array_equal(speech, other)
    assert abs(rms(speech) - 1.0) < 1e-3
    # Speech lives in the voice band, and with several talkers it is rarely silent:
    # one talker alone pauses between words.
    assert band_fraction(speech, 100, 4000) > 0.8
    frames = speech[: len(speech) // 441 * 441].reshape(-1, 441)
    frame_rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    assert np.mean(frame_rms < 0.05) < 0.1
    one = degrade.babble(4 * RATE_HZ, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(11), talkers=1)
    one_frames = one[: len(one) // 441 * 441].reshape(-1, 441)
    assert np.mean(np.sqrt(np.mean(one_frames.astype(np.float64) ** 2, axis=1)) < 0.05) > np.mean(
        frame_rms < 0.05
    )


@pytest.mark.parametrize("requested_db", [0.0, 6.0])
def test_crowd_room_adds_speech_at_the_requested_snr(requested_db):
    music = tone_mix(3.0)
    room = degrade.crowd_room(
        music, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(13), snr_db=requested_db
    )
    speech = room - music
    assert abs(snr_db(music, speech) - requested_db) < 0.1
    # What was added is the seeded babble itself, not any noise.
    expected = degrade.babble(len(music), sample_rate_hz=RATE_HZ, rng=np.random.default_rng(13))
    assert np.corrcoef(speech, expected)[0, 1] > 0.999


def test_crowd_is_the_room_then_the_phone_and_reproducible():
    # Many tones, not one: a room boosts or cuts any single frequency at random, but over a
    # comb of tones its gain averages out, as it does over the broadband speech.
    freqs_hz = np.geomspace(300, 4000, 24).round()
    time_s = np.arange(3 * RATE_HZ) / RATE_HZ
    music = (0.02 * np.sin(2 * np.pi * freqs_hz[:, None] * time_s).sum(axis=0)).astype(np.float32)
    heard = degrade.apply_condition("crowd", music, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(14))
    again = degrade.apply_condition("crowd", music, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(14))
    assert np.array_equal(heard, again) and heard.shape == music.shape and np.max(np.abs(heard)) <= 1.0
    rng = np.random.default_rng(14)
    room = degrade.crowd_room(music, sample_rate_hz=RATE_HZ, rng=rng)
    assert np.array_equal(heard, degrade.phone(room, sample_rate_hz=RATE_HZ, rng=rng))
    # At 0 dB the tones hold about half the power heard; talk and the room's noise the rest.
    tone_share = sum(band_fraction(heard, f - 8, f + 8) for f in freqs_hz)
    music_alone = degrade.phone(music, sample_rate_hz=RATE_HZ, rng=np.random.default_rng(14))
    assert sum(band_fraction(music_alone, f - 8, f + 8) for f in freqs_hz) > 0.8
    assert 0.3 < tone_share < 0.7


@pytest.mark.parametrize(
    "label, canonical",
    [
        ("speed:3", "speed:+3"),
        ("speed:-5", "speed:-5"),
        ("tempo:+5.0", "tempo:+5"),
        ("pitch:-3", "pitch:-3"),
        ("crowd", "crowd"),
        ("noise:10", "noise:10"),
    ],
)
def test_condition_labels_are_read_and_spelt_one_way(label, canonical):
    assert degrade.condition_label(label) == canonical


@pytest.mark.parametrize(
    "label, message",
    [
        ("vinyl", "unknown condition 'vinyl'"),
        ("phone:3", "takes no factor"),
        ("speed:fast", "not a number"),
        ("tempo:-100", "out of range"),
    ],
)
def test_bad_condition_labels_are_refused_with_a_reason(label, message):
    with pytest.raises(ValueError, match=message):
        degrade.parse_condition(label)


def test_label_factor_wins_over_options_and_bare_names_use_options():
    clip = tone_mix(1.0)
    rng = np.random.default_rng(0)
    assert (
        abs(
            len(degrade.apply_condition("speed:+10", clip, sample_rate_hz=RATE_HZ, rng=rng, percent=2.0))
            - RATE_HZ / 1.1
        )
        <= 1
    )
    assert degrade.speed_ratio("speed", percent=4.0) == pytest.approx(1.04)
    assert degrade.speed_ratio("speed") == pytest.approx(1.02)  # the condition's default
    assert degrade.speed_ratio("tempo") == pytest.approx(1.05)
    assert degrade.speed_ratio("crowd") == degrade.speed_ratio("pitch:+3") == 1.0


def test_pitch_without_rubberband_shifts_by_resampling_and_restretching(monkeypatch):
    monkeypatch.setattr(degrade, "_has_rubberband", lambda: False)
    original = tone(440, 3.0)
    shifted = degrade.pitch(original, sample_rate_hz=RATE_HZ, percent=-3.0)
    assert abs(len(shifted) - len(original)) <= 0.01 * RATE_HZ
    assert abs(peak_hz(shifted[RATE_HZ // 2 : -RATE_HZ // 2]) / 440 - 0.97) < 0.004
