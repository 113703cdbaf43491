"""Decoding files through ffmpeg, its errors, and the PCM and SHA-1 helpers."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from recognition.engine.audio import (
    AudioDecodeError,
    decode_file,
    decode_pcm16,
    file_sha1,
    float_to_pcm16,
    pcm16_to_float,
)
from tests.audio_fixtures import encode, synth_song, write_wav

ENGINE_RATE_HZ = 8000
SOURCE_RATE_HZ = 44100
SECONDS = 3.0


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    """One generated song as 44.1 kHz WAV, with mp3, ogg, flac and 48 kHz stereo copies."""
    folder = tmp_path_factory.mktemp("audio")
    song = synth_song(51, duration_s=SECONDS, sample_rate_hz=SOURCE_RATE_HZ)
    wav = write_wav(folder / "song.wav", song, sample_rate_hz=SOURCE_RATE_HZ)
    encode(wav, folder / "song.mp3", "-b:a", "128k")
    encode(wav, folder / "song.ogg")
    encode(wav, folder / "song.flac")
    encode(wav, folder / "song48_stereo.wav", "-ar", "48000", "-ac", "2")
    return folder


@pytest.fixture(scope="module")
def reference(audio_dir):
    return decode_file(audio_dir / "song.wav", sample_rate_hz=ENGINE_RATE_HZ)


def test_wav_decodes_to_mono_float32_at_the_engine_rate(reference):
    assert reference.dtype == np.float32
    assert reference.ndim == 1
    assert len(reference) == SECONDS * ENGINE_RATE_HZ
    assert 0.3 < np.abs(reference).max() <= 0.55  # the song's peak is 0.5


@pytest.mark.parametrize("name", ["song.mp3", "song.ogg", "song.flac"])
def test_compressed_copy_decodes_to_the_same_song_and_length(audio_dir, reference, name):
    decoded = decode_file(audio_dir / name, sample_rate_hz=ENGINE_RATE_HZ)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    assert abs(len(decoded) - len(reference)) <= 0.02 * ENGINE_RATE_HZ
    n = min(len(decoded), len(reference))
    assert np.corrcoef(decoded[:n], reference[:n])[0, 1] > 0.99


def test_48_khz_stereo_copy_decodes_to_the_same_mono_samples(audio_dir, reference):
    decoded = decode_file(audio_dir / "song48_stereo.wav", sample_rate_hz=ENGINE_RATE_HZ)
    assert decoded.ndim == 1
    assert len(decoded) == len(reference)
    assert np.corrcoef(decoded, reference)[0, 1] > 0.999


def test_decoding_at_another_rate_scales_the_length(audio_dir):
    decoded = decode_file(audio_dir / "song.wav", sample_rate_hz=16000)
    assert len(decoded) == SECONDS * 16000


def test_limit_s_keeps_only_the_first_seconds(audio_dir, reference):
    decoded = decode_file(audio_dir / "song.wav", sample_rate_hz=ENGINE_RATE_HZ, limit_s=1.25)
    assert len(decoded) == 1.25 * ENGINE_RATE_HZ
    np.testing.assert_allclose(decoded, reference[: len(decoded)], atol=1e-4)


def test_start_s_and_limit_s_cut_the_middle(audio_dir, reference):
    decoded = decode_file(audio_dir / "song.wav", sample_rate_hz=ENGINE_RATE_HZ, start_s=1.0, limit_s=1.5)
    assert len(decoded) == 1.5 * ENGINE_RATE_HZ
    start = ENGINE_RATE_HZ
    assert np.abs(decoded - reference[start : start + len(decoded)]).max() < 0.01


def test_decode_error_is_a_value_error():
    assert issubclass(AudioDecodeError, ValueError)


def test_empty_file_is_refused_as_empty(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match=r"empty\.mp3 is empty \(0 bytes\)"):
        decode_file(path, sample_rate_hz=ENGINE_RATE_HZ)


def test_text_file_named_mp3_is_not_decodable(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("shopping list: eggs, flour, milk\n" * 40)
    with pytest.raises(AudioDecodeError, match=r"^notes\.mp3: not decodable audio \(.+\)$"):
        decode_file(path, sample_rate_hz=ENGINE_RATE_HZ)


def test_id3_header_followed_by_garbage_is_not_decodable(tmp_path):
    path = tmp_path / "broken.mp3"
    id3_header = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10)
    path.write_bytes(id3_header + np.random.default_rng(0).bytes(4000))
    with pytest.raises(AudioDecodeError, match=r"^broken\.mp3: "):
        decode_file(path, sample_rate_hz=ENGINE_RATE_HZ)


def test_mp3_cut_to_300_bytes_yields_an_error_or_almost_nothing(audio_dir, tmp_path):
    # 300 bytes hold less than one 128 kb/s frame (26 ms); a decoder may still salvage a little.
    path = tmp_path / "cut.mp3"
    path.write_bytes((audio_dir / "song.mp3").read_bytes()[:300])
    try:
        decoded = decode_file(path, sample_rate_hz=ENGINE_RATE_HZ)
    except AudioDecodeError as error:
        assert str(error).startswith("cut.mp3: ")
    else:
        assert len(decoded) < 0.05 * ENGINE_RATE_HZ


def test_missing_file_is_refused_with_the_os_reason(tmp_path):
    with pytest.raises(AudioDecodeError, match=r"cannot read .*nowhere\.wav: No such file or directory"):
        decode_file(tmp_path / "nowhere.wav", sample_rate_hz=ENGINE_RATE_HZ)


def test_directory_is_refused_as_not_a_file(tmp_path):
    with pytest.raises(AudioDecodeError, match="is not a file"):
        decode_file(tmp_path, sample_rate_hz=ENGINE_RATE_HZ)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_refused_as_permission_denied(audio_dir, tmp_path):
    path = tmp_path / "locked.wav"
    path.write_bytes((audio_dir / "song.wav").read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(AudioDecodeError, match="permission denied"):
            decode_file(path, sample_rate_hz=ENGINE_RATE_HZ)
    finally:
        path.chmod(0o600)


def test_every_int16_value_survives_bytes_to_float_to_bytes():
    pcm = np.arange(-32768, 32768, dtype="<i2").tobytes()
    samples = pcm16_to_float(pcm)
    assert samples.dtype == np.float32
    assert samples.min() == -1.0 and samples.max() == 32767 / 32768
    assert float_to_pcm16(samples) == pcm


def test_float_to_pcm16_is_within_one_step_and_clips():
    samples = np.random.default_rng(0).uniform(-1.0, 1.0, 5000).astype(np.float32)
    back = pcm16_to_float(float_to_pcm16(samples))
    assert np.abs(back - samples).max() < 1 / 32768
    clipped = float_to_pcm16(np.array([1.5, -1.5], dtype=np.float32))
    assert np.frombuffer(clipped, dtype="<i2").tolist() == [32767, -32768]


def test_pcm16_is_little_endian_and_drops_a_trailing_odd_byte():
    assert pcm16_to_float(b"\x00\x80\xff\x7f\x00\x40\x01").tolist() == [-1.0, 32767 / 32768, 0.5]


def test_decode_pcm16_resamples_to_the_engine_rate():
    source = synth_song(52, duration_s=1.0, sample_rate_hz=16000)
    decoded = decode_pcm16(float_to_pcm16(source), in_rate_hz=16000, sample_rate_hz=ENGINE_RATE_HZ)
    assert decoded.dtype == np.float32
    assert len(decoded) == ENGINE_RATE_HZ


@pytest.mark.parametrize("size", [0, 1, 1000, 3 * 1024 + 5])
def test_file_sha1_equals_hashlib_on_the_whole_content(tmp_path, size):
    path = tmp_path / "blob.bin"
    content = np.random.default_rng(size).bytes(size)
    path.write_bytes(content)
    expected = hashlib.sha1(content).hexdigest()
    assert file_sha1(path) == expected
    assert file_sha1(path, chunk_bytes=1024) == expected
