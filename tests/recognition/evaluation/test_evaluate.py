"""The evaluate command on a generated catalogue: its outputs, and its figures where the answer is known."""

from __future__ import annotations

import csv
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recognition import conf
from recognition.evaluation import degrade, report
from tests.audio_fixtures import synth_song, write_wav

pytestmark = pytest.mark.django_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEGATIVE_RATE_HZ = 22050
ODD_NAME = "<odd> & name_2.wav"


@pytest.fixture
def music_dir(catalogue, song_files, tmp_path) -> tuple[Path, dict[str, int]]:
    """Copies of the catalogued songs and two unrelated songs, under awkward names.

    Returns the folder and {file name: expected song id, or None for a negative}.
    """
    folder = tmp_path / "music to evaluate"
    (folder / "sub_dir ñ").mkdir(parents=True)
    names = ["sóng_one 1.wav", "second_song.wav", "sub_dir ñ/Trois – chansons_3.wav", "4 four_four.wav"]
    expected: dict[str, int | None] = {}
    for name, track in zip(names, song_files, strict=False):
        shutil.copyfile(track.path, folder / name)
        expected[name] = catalogue[track.seed].pk
    for seed, name in ((101, "ünknown_sóng 1.wav"), (102, ODD_NAME)):
        write_wav(
            folder / name,
            synth_song(seed, duration_s=20.0, sample_rate_hz=NEGATIVE_RATE_HZ),
            sample_rate_hz=NEGATIVE_RATE_HZ,
        )
        expected[name] = None
    return folder, expected


def evaluate(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("evaluate", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def read_csv(folder: Path) -> list[dict]:
    with (folder / report.CSV_NAME).open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


@pytest.mark.slow  # the whole command end to end: every condition, two lengths, plots and the report
def test_writes_csv_json_every_plot_and_an_index_that_shows_them(music_dir, tmp_path):
    folder, expected = music_dir
    shutil.copyfile(folder / "second_song.wav", folder / "zz_copy of second song.wav")
    (folder / "<broken> & file.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00garbage" * 10)
    results = tmp_path / "results"
    out, err = evaluate(
        folder,
        "--lengths",
        2,
        3,
        "--clips-per-song",
        1,
        "--padding",
        2,
        "--results",
        results,
        "--no-progress",
    )

    # Six distinct contents, every condition, two lengths, one clip each.
    planned = 6 * len(degrade.CONDITIONS) * 2
    assert f"{planned} clips from 4 catalogued and 2 other file(s)" in out
    assert "left out: " in err and "<broken> & file.mp3" in err
    rows = read_csv(results)
    assert len(rows) == planned
    assert {Path(row["path"]).name for row in rows} == {Path(name).name for name in expected}
    assert {row["condition"] for row in rows} == set(degrade.CONDITIONS)

    data = json.loads((results / report.JSON_NAME).read_text(encoding="utf-8"))
    assert data["params_version"] == conf.fingerprint_params().version
    assert (
        data["arguments"]["seed"] == 42
        and data["arguments"]["snr_db"] == 5.0
        and data["arguments"]["speed_percent"] == 2.0
    )
    assert data["no_match_rule"]["min_aligned_votes"] == conf.service_settings().min_aligned_votes
    assert len(data["clips"]) == planned and data["summary"]["overall"]["clips"] == planned
    assert [Path(p).name for p in data["files"]["duplicates"]] == ["zz_copy of second song.wav"]
    assert [Path(f["path"]).name for f in data["files"]["failures"]] == ["<broken> & file.mp3"]

    index = (results / report.INDEX_NAME).read_text(encoding="utf-8")
    for name in report.PLOTS:
        png = (results / name).read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 5000, name
        assert f'<img src="{name}"' in index
    assert f'href="{report.CSV_NAME}"' in index and f'href="{report.JSON_NAME}"' in index
    assert (
        "<broken>" not in index and "&lt;broken&gt; &amp; file.mp3" in index
    )  # listed as unreadable, escaped
    assert "results: " in out and str(results / report.INDEX_NAME) in out


def test_clean_clips_are_all_right_to_the_offset_and_unrelated_music_gives_no_false_positive(
    music_dir, tmp_path
):
    folder, expected = music_dir
    results = tmp_path / "results"
    out, _ = evaluate(
        folder,
        "--lengths",
        2,
        4,
        "--conditions",
        "clean",
        "--clips-per-song",
        2,
        "--padding",
        2,
        "--results",
        results,
        "--no-progress",
    )

    overall = json.loads((results / report.JSON_NAME).read_text(encoding="utf-8"))["summary"]["overall"]
    assert (overall["positives"], overall["negatives"]) == (4 * 2 * 2, 2 * 2 * 2)
    assert overall["accuracy"] == 1.0
    assert overall["offset_ok"] == 1.0
    assert overall["false_positive_rate"] == 0.0
    for row in read_csv(results):
        name = Path(row["path"]).relative_to(folder).as_posix()
        want = expected[name]
        assert row["song_id"] == ("" if want is None else str(want)), name
        assert row["predicted_song_id"] == row["song_id"], name
        if want is not None:
            assert abs(float(row["predicted_offset_s"]) - float(row["start_s"])) <= 0.05, name
    table_rows = [line.split() for line in out.splitlines() if line.startswith("clean ")]
    assert [(row[1], row[3], row[4], row[8]) for row in table_rows] == [
        ("2", "100.0%", "100.0%", "0.0%"),
        ("4", "100.0%", "100.0%", "0.0%"),
    ]


def test_the_same_seed_cuts_the_same_clips_and_another_seed_other_clips(music_dir, tmp_path, monkeypatch):
    folder, _ = music_dir
    monkeypatch.chdir(tmp_path)

    def clip_positions(seed, results=None):
        where = ["--results", tmp_path / results] if results else []
        _, err = evaluate(
            folder,
            "--lengths",
            2,
            "--conditions",
            "clean",
            "--clips-per-song",
            2,
            "--padding",
            2,
            "--seed",
            seed,
            *where,
        )
        assert "evaluating" not in err  # no progress bar when stderr is not a terminal
        [written] = (tmp_path / "evaluation-results").glob("*") if not results else [tmp_path / results]
        positions = [(row["path"], row["start_s"]) for row in read_csv(written)]
        if not results:
            shutil.rmtree(written)
        return positions

    first = clip_positions(7)  # into the default ./evaluation-results/<timestamp>/
    again = clip_positions(7, "again")
    other = clip_positions(8, "other")
    assert len(first) == 6 * 2
    assert first == again
    assert [path for path, _ in other] == [path for path, _ in first]
    assert [start for _, start in other] != [start for _, start in first]


def test_user_errors_are_command_errors(music_dir, tmp_path):
    folder, _ = music_dir
    with pytest.raises(CommandError, match="is not a folder"):
        evaluate(tmp_path / "no such folder")
    with pytest.raises(CommandError, match="invalid choice: 'vinyl'"):
        evaluate(folder, "--conditions", "clean", "vinyl")
    with pytest.raises(CommandError, match="--lengths must be positive"):
        evaluate(folder, "--lengths", 0)
    with pytest.raises(CommandError, match="no clips to cut"):
        evaluate(folder, "--lengths", 60, "--conditions", "clean", "--results", tmp_path / "unused")


def test_conditions_take_factors_and_report_the_speed_ratio_truth(music_dir, tmp_path):
    folder, _ = music_dir
    results = tmp_path / "results"
    evaluate(
        folder,
        "--lengths",
        3,
        "--conditions",
        "speed:3",
        "tempo:-5",
        "pitch:+3",
        "--clips-per-song",
        1,
        "--padding",
        2,
        "--results",
        results,
        "--no-progress",
    )
    rows = read_csv(results)
    assert {row["condition"] for row in rows} == {"speed:+3", "tempo:-5", "pitch:+3"}
    truth = {row["condition"]: float(row["expected_speed_ratio"]) for row in rows}
    assert truth == {"speed:+3": 1.03, "tempo:-5": 0.95, "pitch:+3": 1.0}
    data = json.loads((results / report.JSON_NAME).read_text(encoding="utf-8"))
    assert data["arguments"]["conditions"] == ["speed:+3", "tempo:-5", "pitch:+3"]
    with pytest.raises(CommandError, match=r"invalid choice: 'phone:3'.*takes no factor"):
        evaluate(folder, "--conditions", "phone:3")


def test_crowd_without_espeak_ng_is_a_command_error(music_dir, monkeypatch):
    folder, _ = music_dir
    monkeypatch.setattr(degrade.shutil, "which", lambda name: None)
    monkeypatch.setattr(degrade, "_talker_loop", degrade._talker_loop.__wrapped__)  # no cached speech
    with pytest.raises(CommandError, match="espeak-ng"):
        evaluate(folder, "--conditions", "clean", "crowd")
