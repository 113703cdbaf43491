"""recognize and listen, through call_command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recognition.models import Recognition
from tests.audio_fixtures import synth_song, write_wav

pytestmark = pytest.mark.django_db


def recognize(*args):
    out, err = StringIO(), StringIO()
    call_command("recognize", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_gives_one_object_per_file_with_the_documented_fields(catalogue, song_files, tmp_path):
    unknown = tmp_path / "unknown.wav"
    write_wav(unknown, synth_song(77, duration_s=6.0, sample_rate_hz=16000), sample_rate_hz=16000)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00garbage" * 10)
    out, _ = recognize(str(song_files[2].path), str(broken), str(unknown), "--json", "--start", "4", "--seconds", "3", "--top", "3")
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [line["file"] for line in lines] == [str(song_files[2].path), str(broken), str(unknown)]
    hit, error, miss = lines
    assert set(hit) >= {"file", "match", "matches", "match_time_s", "total_time_s"}
    assert set(hit["match"]) == {"song_id", "title", "artist", "offset_seconds", "confidence", "score", "speed_ratio"}
    assert hit["match"]["speed_ratio"] == 1.0
    assert hit["match"]["song_id"] == catalogue[13].pk
    assert hit["match"]["offset_seconds"] == pytest.approx(4.0, abs=0.02)
    assert 1 <= len(hit["matches"]) <= 3
    assert 0 < hit["match_time_s"] <= hit["total_time_s"]
    assert "broken.mp3" in error["error"] and error["match"] is None
    assert miss["match"] is None
    assert Recognition.objects.count() == 2  # the undecodable file is not an answer


def test_human_output_names_the_song(catalogue, song_files):
    out, _ = recognize(str(song_files[0].path), "--seconds", "2")
    assert "match: song 11" in out
    assert "0:00.0" in out


def test_all_files_undecodable_is_an_error(db, tmp_path):
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="no file could be decoded"):
        recognize(str(empty))


def test_bad_arguments_are_command_errors(db, song_files):
    with pytest.raises(CommandError, match="--top"):
        recognize(str(song_files[0].path), "--top", "0")
