"""recognize and listen, through call_command."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recognition.models import Recognition
from tests.audio_fixtures import synth_song, write_wav
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]

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
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 3 file"):
        call_command(
            "recognize",
            str(song_files[2].path),
            str(broken),
            str(unknown),
            "--json",
            "--start",
            "4",
            "--seconds",
            "3",
            "--top",
            "3",
            stdout=out,
            stderr=StringIO(),
        )
    out = out.getvalue()
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [line["file"] for line in lines] == [str(song_files[2].path), str(broken), str(unknown)]
    hit, error, miss = lines
    assert set(hit) >= {"file", "match", "matches", "match_time_s", "total_time_s"}
    assert set(hit["match"]) == {
        "song_id",
        "title",
        "artist",
        "offset_seconds",
        "confidence",
        "score",
        "speed_ratio",
        "rule_margin",
        "duration_s",
        "cover_url",
    }
    assert hit["match"]["speed_ratio"] == 1.0
    assert hit["match"]["song_id"] == catalogue[13].pk
    assert hit["match"]["offset_seconds"] == pytest.approx(4.0, abs=0.02)
    assert 1 <= len(hit["matches"]) <= 3
    assert 0 < hit["match_time_s"] <= hit["total_time_s"]
    assert "broken.mp3" in error["error"] and error["match"] is None
    assert miss["match"] is None
    assert "aligned votes" in miss["no_match_reason"] or "no hash" in miss["no_match_reason"]
    assert hit["no_match_reason"] == ""
    assert Recognition.objects.count() == 2  # the undecodable file is not an answer


def test_human_output_names_the_song(catalogue, song_files):
    out, _ = recognize(str(song_files[0].path), "--seconds", "2")
    assert "match: song 11" in out
    assert "0:00.0" in out


def test_all_files_undecodable_is_an_error(db, tmp_path):
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="1 of 1 file") as failure:
        recognize(str(empty))
    assert failure.value.returncode == 1


def test_bad_arguments_are_usage_errors(db, song_files):
    with pytest.raises(CommandError, match="--top") as failure:
        recognize(str(song_files[0].path), "--top", "0")
    assert failure.value.returncode == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_exit_status_is_1_when_one_file_is_missing_and_names_it(catalogue, song_files, tmp_path):
    """A real process: the shell sees 1 if any file failed, 2 for usage errors."""
    command = [sys.executable, str(ROOT / "manage.py"), "recognize"]
    env = subprocess_env()
    missing = tmp_path / "missing.mp3"
    done = subprocess.run(
        [*command, str(song_files[0].path), str(missing)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "match: song 11" in done.stdout
    assert f"error: {missing}: no such file" in done.stderr
    assert "1 of 2 file(s) could not be read" in done.stderr
    assert "Traceback" not in done.stderr
    ok = subprocess.run(
        [*command, str(song_files[0].path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    usage = subprocess.run(
        [*command, str(song_files[0].path), "--top", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert usage.returncode == 2
    unknown_option = subprocess.run(
        [*command, "--no-such-option"], env=env, capture_output=True, text=True, timeout=120
    )
    assert unknown_option.returncode == 2
