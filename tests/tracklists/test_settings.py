"""JAMJAR_TRACKLIST: merged over the defaults, read when needed, an unknown key an error at start-up."""

from __future__ import annotations

from tracklists import conf
from tracklists.checks import check_tracklist_settings


def test_overrides_reach_the_timeline_and_the_monitor(settings):
    settings.JAMJAR_TRACKLIST = {"block_s": 4.0, "reconnect_max_s": 5.0}
    assert conf.timeline_settings().block_s == 4.0
    assert conf.timeline_settings().min_run_votes == 30  # the rest keep their defaults
    assert conf.monitor_settings().reconnect_max_s == 5.0


def test_an_unknown_key_is_named_by_the_start_up_check(settings):
    settings.JAMJAR_TRACKLIST = {"blok_s": 4.0}
    errors = check_tracklist_settings(None)
    assert [error.id for error in errors] == ["jamjar.E101"]
    assert "unknown JAMJAR_TRACKLIST key(s): blok_s" in errors[0].msg
