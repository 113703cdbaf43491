"""Ingest generated songs, then recognise clips of them in several conditions."""

from __future__ import annotations

import numpy as np
import pytest

from recognition import conf, services
from recognition.engine.audio import decode_file
from tests.audio_fixtures import encode, synth_song, white_noise, write_wav
from tests.conftest import SONG_RATE_HZ

pytestmark = pytest.mark.django_db

CLIP_START_S = 7.3
CLIP_SECONDS = 3.0


def cut(track, tmp_path, *, start_s=CLIP_START_S, seconds=CLIP_SECONDS, name="clip.wav"):
    samples = synth_song(track.seed, duration_s=24.0, sample_rate_hz=SONG_RATE_HZ)
    clip = samples[int(start_s * SONG_RATE_HZ) : int((start_s + seconds) * SONG_RATE_HZ)]
    path = tmp_path / name
    write_wav(path, clip, sample_rate_hz=SONG_RATE_HZ)
    return path, clip


def assert_names(result, song, *, start_s=CLIP_START_S):
    hop_s = conf.fingerprint_params().hop / conf.fingerprint_params().sample_rate_hz
    assert result.match is not None, result.reason
    assert result.match.song_id == song.pk
    assert result.match.offset_seconds == pytest.approx(start_s, abs=hop_s)
    assert 0 < result.match.score <= 1


def test_clean_clip_names_song_and_offset(catalogue, song_files, tmp_path):
    track = song_files[1]
    path, _ = cut(track, tmp_path)
    assert_names(services.recognize_file(path), catalogue[track.seed])


def test_clip_with_noise_still_matches(catalogue, song_files, tmp_path):
    track = song_files[2]
    _, clip = cut(track, tmp_path)
    noise = white_noise(5, len(clip) / SONG_RATE_HZ, SONG_RATE_HZ)[: len(clip)]
    # 10 dB SNR of white noise over the whole band
    noise = noise * (np.sqrt(np.mean(clip**2)) / np.sqrt(np.mean(noise**2)) / np.sqrt(10.0))
    noisy = tmp_path / "noisy.wav"
    write_wav(noisy, np.clip(clip + noise, -1, 1), sample_rate_hz=SONG_RATE_HZ)
    assert_names(services.recognize_file(noisy), catalogue[track.seed])


def test_clip_resampled_to_48k_still_matches(catalogue, song_files, tmp_path):
    track = song_files[0]
    path, _ = cut(track, tmp_path)
    resampled = tmp_path / "clip48.wav"
    encode(path, resampled, "-ar", "48000")
    assert decode_file(resampled, sample_rate_hz=48000).size == pytest.approx(CLIP_SECONDS * 48000, abs=10)
    assert_names(services.recognize_file(resampled), catalogue[track.seed])


def test_clip_through_mp3_reencode_still_matches(catalogue, song_files, tmp_path):
    track = song_files[3]
    path, _ = cut(track, tmp_path)
    mp3 = tmp_path / "clip.mp3"
    encode(path, mp3, "-b:a", "64k")
    assert_names(services.recognize_file(mp3), catalogue[track.seed])


def test_part_of_a_longer_file_with_start_and_seconds(catalogue, song_files):
    track = song_files[1]
    result = services.recognize_file(track.path, start_s=12.0, seconds=2.0)
    assert_names(result, catalogue[track.seed], start_s=12.0)


def test_unknown_music_gives_no_match(catalogue, tmp_path):
    unknown = tmp_path / "unknown.wav"
    write_wav(
        unknown, synth_song(99, duration_s=10.0, sample_rate_hz=SONG_RATE_HZ), sample_rate_hz=SONG_RATE_HZ
    )
    result = services.recognize_file(unknown)
    assert result.match is None
    assert result.reason


def test_silence_gives_no_match(catalogue, tmp_path):
    silent = tmp_path / "silence.wav"
    write_wav(silent, np.zeros(5 * SONG_RATE_HZ, dtype=np.float32), sample_rate_hz=SONG_RATE_HZ)
    result = services.recognize_file(silent)
    assert result.match is None
    assert result.query_hashes == 0


def test_top_n_lists_at_most_n_candidates(catalogue, song_files, tmp_path):
    path, _ = cut(song_files[0], tmp_path)
    result = services.recognize_file(path, top_n=2)
    assert 1 <= len(result.matches) <= 2
    assert result.matches[0].song_id == catalogue[song_files[0].seed].pk


def test_streaming_in_chunks_gives_the_same_answer_as_one_call(catalogue, song_files, settings):
    params = conf.fingerprint_params()
    samples = decode_file(song_files[2].path, sample_rate_hz=params.sample_rate_hz, start_s=5.0, limit_s=4.0)
    staged = services.recognize_samples(samples)
    # a file clip whose first step is clear stops there (test_staged_lookup): compare with
    # the clip looked up whole, as a stream is
    settings.JAMJAR = {"staged_first_targets": 0}
    whole = services.recognize_samples(samples)
    assert (staged.match.song_id, staged.match.offset_seconds) == (
        whole.match.song_id,
        whole.match.offset_seconds,
    )
    session = services.ListeningSession()
    for start in range(0, len(samples), 1000):
        session.push(samples[start : start + 1000])
    streamed = session.finish()
    assert streamed.match == whole.match
    assert streamed.query_hashes == whole.query_hashes
