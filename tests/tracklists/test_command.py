"""manage.py tracklist: the timeline of a file as text, JSON, CSV and a CUE sheet; bad input refused."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tracklists.models import Tracklist


def run(*args) -> str:
    out = StringIO()
    call_command("tracklist", *map(str, args), stdout=out)
    return out.getvalue()


def test_json_gives_every_segment_with_its_song(catalogue, recording, tmp_path):
    answer = json.loads(
        run(recording.path, "--json", "--csv", tmp_path / "out.csv", "--cue", tmp_path / "out.cue")
    )

    assert set(answer) == {"file", "duration_s", "segments"}
    assert answer["file"] == "mix.wav"
    assert answer["duration_s"] == pytest.approx(recording.duration_s, abs=0.01)
    segments = answer["segments"]
    expected_ids = [catalogue[seed].pk if seed else None for seed in recording.seeds]
    assert [s["song"]["song_id"] if s["song"] else None for s in segments] == expected_ids
    assert set(segments[0]) == {
        "start_s",
        "end_s",
        "song",
        "song_start_s",
        "song_end_s",
        "speed_ratio",
        "confidence",
    }
    assert set(segments[0]["song"]) == {"song_id", "title", "artist"}
    assert segments[0]["song"]["title"] == catalogue[11].title
    for segment, boundary_s in zip(segments[1:], recording.boundaries_s, strict=True):
        assert segment["start_s"] == pytest.approx(boundary_s, abs=2.0)
    assert segments[1]["speed_ratio"] == pytest.approx(1.03, abs=0.005)
    assert segments[2]["song"] is None and segments[2]["speed_ratio"] is None

    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [row["song_id"] for row in rows] == [str(i) if i else "" for i in expected_ids]
    cue = (tmp_path / "out.cue").read_text()
    assert cue.count("TRACK ") == 4 and 'TITLE "Unknown"' in cue
    assert cue.startswith('TITLE "mix.wav"\nFILE "mix.wav" WAVE\n')


def test_text_names_the_songs_and_the_unknown_stretch(catalogue, recording):
    text = run(recording.path)
    assert catalogue[12].title in text and "speed 1.030" in text
    assert text.count("unknown") == 1


def test_seconds_stops_early(catalogue, recording):
    answer = json.loads(run(recording.path, "--json", "--seconds", 15))
    assert answer["duration_s"] == pytest.approx(15.0, abs=0.01)
    assert [s["song"]["song_id"] for s in answer["segments"]] == [catalogue[11].pk]


def test_non_audio_file_is_a_clear_error_and_writes_nothing(db, tmp_path):
    junk = tmp_path / "notes.mp3"
    junk.write_bytes(b"these are not the sounds you are looking for\n" * 200)
    with pytest.raises(CommandError, match=r"notes\.mp3: not decodable audio"):
        run(junk, "--csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    assert Tracklist.objects.count() == 0


def test_truncated_file_is_a_clear_error_and_writes_nothing(catalogue, recording, tmp_path):
    data = recording.path.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])  # a copy that stopped half-way: the header promises twice as much
    with pytest.raises(
        CommandError,
        match=r"cut.wav is truncated: its header says 79.3 s of audio, only 39.6 s could be decoded",
    ):
        run(cut, "--cue", tmp_path / "out.cue")
    assert not (tmp_path / "out.cue").exists()


def test_missing_file_is_named(db, tmp_path):
    with pytest.raises(CommandError, match=r"nowhere\.wav: no such file"):
        run(tmp_path / "nowhere.wav")
