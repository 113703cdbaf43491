"""The report's index.html: every value escaped, mistakes listed up to a limit."""

from __future__ import annotations

from recognition.evaluation import report


def clip_row(index: int, *, song_id: int | None, correct: bool, false_positive: bool = False) -> dict:
    return {
        "index": index,
        "path": f"<music> & {index}.mp3",
        "condition": "phone",
        "length_s": 3.0,
        "start_s": 12.5,
        "song_id": song_id,
        "title": "Song <b>" if song_id else "",
        "predicted_song_id": song_id if correct else None,
        "predicted_title": "Song <b>" if correct else "",
        "predicted_offset_s": 12.5 if correct else None,
        "correct": correct,
        "false_positive": false_positive,
        "confidence": 7,
        "runner_up": 3,
        "no_match_reason": "" if correct else "7 aligned votes, fewer than the 10.0 needed",
    }


def a_report(rows: list[dict]) -> dict:
    cell = {
        "condition": "phone", "length_s": 3.0, "positives": len(rows), "accuracy": 0.5, "offset_ok": 1.0,
        "wrong_song": 0.0, "negatives": 0, "false_positive_rate": None, "median_match_ms": 12.25,
        "p95_match_ms": 30.0, "median_confidence_correct": 7, "median_confidence_negative": None,
        "speed_ratio_ok": 1.0,
    }  # fmt: skip
    overall = {
        "clips": len(rows), "positives": len(rows), "negatives": 0, "accuracy": 0.5, "offset_ok": 1.0,
        "false_positive_rate": None, "median_match_ms": 12.25, "p95_match_ms": 30.0,
    }  # fmt: skip
    return {
        "created": "2026-12-01T05:00:00+00:00",
        "arguments": {"directory": "<dir> & co", "seed": 7},
        "params_version": "fp-test",
        "no_match_rule": {"min_aligned_votes": 10, "min_margin": 2.0, "chance_votes_factor": 0.5},
        "files": {
            "positives": 2,
            "negatives": 0,
            "duplicates": [],
            "failures": [{"path": "<broken>.mp3", "reason": 'not "audio"'}],
        },
        "summary": {"cells": [cell], "overall": overall},
    }


def test_index_escapes_every_value_and_shows_the_rule_tables_and_plots():
    rows = [clip_row(0, song_id=1, correct=True), clip_row(1, song_id=1, correct=False)]
    page = report.index_html(a_report(rows), rows)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<dir>" not in page and "&lt;dir&gt; &amp; co" in page
    assert "<broken>" not in page and "&lt;broken&gt;.mp3" in page and "not &quot;audio&quot;" in page
    assert "at least 10 aligned votes (plus 0.5 x the square root of all votes) and 2x the runner-up" in page
    assert "<td>50.0%</td>" in page and "<td>12.2</td>" in page  # overall top-1 and median ms
    for name, caption in report.PLOTS.items():
        assert f'<img src="{name}" alt="{caption}">' in page
    assert "<h2>Mistakes (1)</h2>" in page and "&lt;music&gt; &amp; 1.mp3" in page
    assert "&lt;music&gt; &amp; 0.mp3" not in page  # a right answer is no mistake
    assert "<td>0:12.5</td>" in page  # the true start, as the other doors print an offset


def test_index_lists_the_first_mistakes_and_says_the_csv_has_them_all():
    rows = [clip_row(n, song_id=1, correct=False) for n in range(report.INDEX_MISTAKES + 5)]
    page = report.index_html(a_report(rows), rows)
    assert f"<h2>Mistakes ({report.INDEX_MISTAKES + 5})</h2>" in page
    assert page.count("7 aligned votes, fewer than the 10.0 needed") == report.INDEX_MISTAKES
    assert f"The first {report.INDEX_MISTAKES} are listed; {report.CSV_NAME} has them all." in page


def test_index_without_mistakes_says_none():
    rows = [clip_row(0, song_id=1, correct=True)]
    page = report.index_html(a_report(rows), rows)
    assert "<h2>Mistakes (0)</h2>\n<p>None.</p>" in page
