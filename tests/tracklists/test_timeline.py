"""The timeline analyser on generated mixes, with the catalogue held in memory (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.params import FingerprintParams
from recognition.engine.stream import fingerprint
from recognition.evaluation.degrade import speed
from tests.audio_fixtures import synth_song
from tests.tracklists.mixes import mix
from tracklists.timeline import Run, TimelineAnalyser, TimelineSettings, assemble

PARAMS = FingerprintParams()
RATE_HZ = PARAMS.sample_rate_hz
SONG_SEEDS = (301, 302, 303, 304)
LOOP_SEED, LOOP_S = 305, 5


def looping_song(*, repeats: int, noise_seed: int) -> np.ndarray:
    """A 5 s phrase played over and over, as game and dance tracks do, each time with its own
    faint noise: which repeat a few seconds of it agree with best is then chance."""
    phrase = synth_song(LOOP_SEED, duration_s=LOOP_S, sample_rate_hz=RATE_HZ)
    rng = np.random.default_rng(noise_seed)
    return np.concatenate(
        [phrase + rng.normal(0, 0.02, len(phrase)).astype(np.float32) for _ in range(repeats)]
    )


@pytest.fixture(scope="module")
def songs() -> dict[int, np.ndarray]:
    catalogue = {seed: synth_song(seed, duration_s=50, sample_rate_hz=RATE_HZ) for seed in SONG_SEEDS}
    return {**catalogue, LOOP_SEED: looping_song(repeats=10, noise_seed=1)}


@pytest.fixture(scope="module")
def lookup(songs):
    """The catalogue's (hash, song, offset) rows for the songs, found by hash as the selector finds them."""
    parts = [(fingerprint(samples, PARAMS), seed) for seed, samples in songs.items()]
    hashes = np.concatenate([h.hashes for h, _ in parts])
    song_ids = np.concatenate([np.full(len(h), seed) for h, seed in parts])
    offsets = np.concatenate([h.offsets_frames for h, _ in parts])
    order = np.argsort(hashes, kind="stable")
    hashes, song_ids, offsets = hashes[order], song_ids[order], offsets[order]

    def rows(query: np.ndarray, *, song_id: int | None = None):
        wanted = np.isin(hashes, np.unique(query)) & ((song_ids == song_id) if song_id is not None else True)
        return hashes[wanted], song_ids[wanted], offsets[wanted]

    return rows


def analyse(samples: np.ndarray, lookup, *, chunk_s: float = 10.0):
    analyser = TimelineAnalyser(PARAMS, TimelineSettings(), lookup)
    step = int(chunk_s * RATE_HZ)
    for start in range(0, len(samples), step):
        analyser.push(samples[start : start + step])
    return analyser.finish()


def test_songs_crossfades_and_a_speed_change_are_found(songs, lookup):
    unknown = synth_song(999, duration_s=30, sample_rate_hz=RATE_HZ)
    parts = [
        songs[301][: 40 * RATE_HZ],
        speed(songs[302][5 * RATE_HZ : 50 * RATE_HZ], percent=3.0),  # played 3 % fast
        unknown,
        songs[303][10 * RATE_HZ : 45 * RATE_HZ],
    ]
    recording, boundaries = mix(parts, overlap=6 * RATE_HZ)
    segments = analyse(recording, lookup)

    assert [s.song_id for s in segments] == [301, 302, None, 303]
    found = [s.start_s for s in segments[1:]]
    assert np.abs(np.array(found) - np.array(boundaries) / RATE_HZ).max() <= 2.0
    assert segments[0].start_s == 0 and segments[-1].end_s == pytest.approx(len(recording) / RATE_HZ)
    assert segments[1].speed_ratio == pytest.approx(1.03, abs=0.005)
    assert segments[0].speed_ratio == segments[3].speed_ratio == 1.0
    # Where in each song: song 303 starts 10 s in (its first 3 s fade in before the boundary).
    fade_in_s = boundaries[2] / RATE_HZ - segments[3].start_s
    assert segments[3].song_start_s == pytest.approx(10.0 + 3.0 - fade_in_s, abs=0.5)
    assert segments[2].confidence == 0 and segments[2].song_start_s is None


def test_only_unknown_music_gives_one_unknown_segment(lookup):
    recording = np.concatenate(
        [synth_song(seed, duration_s=40, sample_rate_hz=RATE_HZ) for seed in (901, 902)]
    )
    segments = analyse(recording, lookup)
    assert len(segments) == 1
    assert segments[0].song_id is None
    assert (segments[0].start_s, segments[0].end_s) == (0.0, pytest.approx(80.0))


def test_the_timeline_does_not_depend_on_how_the_audio_is_chunked(songs, lookup):
    recording, _ = mix(
        [songs[304][: 30 * RATE_HZ], speed(songs[301][: 30 * RATE_HZ], percent=-2.0)], overlap=4 * RATE_HZ
    )
    assert analyse(recording, lookup, chunk_s=1.0) == analyse(recording, lookup, chunk_s=17.0)


def test_a_song_that_loops_is_one_segment(songs, lookup):
    # The same 15 s of song 302 three times over: its hashes agree on three lines of the song.
    loop = songs[302][5 * RATE_HZ : 20 * RATE_HZ]
    recording, _ = mix([songs[301][: 30 * RATE_HZ], np.concatenate([loop, loop, loop])], overlap=4 * RATE_HZ)
    segments = analyse(recording, lookup)
    assert [s.song_id for s in segments] == [301, 302]
    assert segments[1].end_s == pytest.approx(len(recording) / RATE_HZ)


def seconds_until_named(samples: np.ndarray, lookup, song_id: int, *, live: bool) -> float | None:
    """Audio fed one second at a time, as a stream arrives: how much was heard when a confirmed
    run first named song_id (None: never)."""
    analyser = TimelineAnalyser(PARAMS, TimelineSettings(), lookup, live=live)
    for start in range(0, len(samples), RATE_HZ):
        analyser.push(samples[start : start + RATE_HZ])
        if any(run.confirmed and run.song_id == song_id for run in analyser.open_runs):
            return analyser.seconds
    return None


def test_a_live_stream_names_a_sped_up_song_sooner_after_unknown_music(songs, lookup):
    unknown = synth_song(998, duration_s=31, sample_rate_hz=RATE_HZ)
    recording, boundaries = mix(
        [unknown, speed(songs[302][: 40 * RATE_HZ], percent=2.0)], overlap=6 * RATE_HZ
    )
    song_start_s = boundaries[0] / RATE_HZ
    live_s = seconds_until_named(recording, lookup, 302, live=True)
    file_s = seconds_until_named(recording, lookup, 302, live=False)
    assert live_s is not None and file_s is not None
    assert live_s - song_start_s <= 8.0
    assert live_s < file_s


def test_a_live_stream_names_a_looping_song_from_its_second_block(lookup):
    # Each block agrees about as well with every repeat of the phrase; before each repeat
    # got its own hit, two blocks rarely picked the same one and the song waited for chance.
    unknown = synth_song(996, duration_s=20, sample_rate_hz=RATE_HZ)
    recording, boundaries = mix([unknown, looping_song(repeats=6, noise_seed=2)], overlap=4 * RATE_HZ)
    named_s = seconds_until_named(recording, lookup, LOOP_SEED, live=True)
    assert named_s is not None
    assert named_s - boundaries[0] / RATE_HZ <= 8.0


def test_a_live_stream_of_unknown_music_names_no_song(lookup):
    unknown = synth_song(997, duration_s=60, sample_rate_hz=RATE_HZ)
    analyser = TimelineAnalyser(PARAMS, TimelineSettings(), lookup, live=True)
    for start in range(0, len(unknown), RATE_HZ):
        analyser.push(unknown[start : start + RATE_HZ])
    assert analyser.probes >= 15  # every 3 s once 3 s go unexplained: the probes did run
    assert [(s.song_id, s.end_s) for s in analyser.finish()] == [(None, pytest.approx(60.0))]


def test_two_alike_runs_of_a_loop_keep_their_song():
    # Two repeats of a loop can make runs with the same span and votes: each lies inside the
    # other, and dropping both lost the song.
    twins = [
        Run(song_id=7, times_s=[10.0, 50.0], song_times_s=[song_s, song_s + 40.0], votes=120, hits=12)
        for song_s in (0.0, 20.0)
    ]
    segments = assemble(twins, duration_s=60.0, settings=TimelineSettings())
    assert [(s.song_id, s.start_s, s.end_s) for s in segments] == [
        (None, 0.0, 10.0),
        (7, 10.0, 50.0),
        (None, 50.0, 60.0),
    ]
    assert segments[1].song_start_s == 0.0  # the older run's line


def test_a_file_probes_less_often_while_its_probes_keep_failing(songs, lookup):
    # A minute of unknown music, then a song 3 % fast: the probes back off during the
    # unknown music, and the one that names the song still finds where it starts.
    unknown = synth_song(995, duration_s=60, sample_rate_hz=RATE_HZ)
    recording, boundaries = mix(
        [unknown, speed(songs[302][: 40 * RATE_HZ], percent=3.0)], overlap=4 * RATE_HZ
    )
    probes = {}
    for name, settings in {
        "every 9 s": TimelineSettings(probe_max_every_s=9.0),
        "backing off": TimelineSettings(),
    }.items():
        analyser = TimelineAnalyser(PARAMS, settings, lookup)
        for start in range(0, len(recording), 10 * RATE_HZ):
            analyser.push(recording[start : start + 10 * RATE_HZ])
        segments = analyser.finish()
        probes[name] = analyser.probes
        assert [s.song_id for s in segments] == [None, 302]
        assert abs(segments[1].start_s - boundaries[0] / RATE_HZ) <= 2.0
        assert segments[1].speed_ratio == pytest.approx(1.03, abs=0.005)
    assert probes["backing off"] < 0.7 * probes["every 9 s"]
