"""/api/stats/ and /api/recognitions/ (the recognition log, staff only)."""

from __future__ import annotations

import pytest

from catalog.models import Fingerprint
from recognition.models import Recognition

pytestmark = pytest.mark.django_db


def test_stats_count_songs_fingerprints_hours_and_size(anon, catalogue):
    response = anon.get("/api/stats/")
    assert response.status_code == 200
    stats = response.json()
    assert stats["songs"] == 4
    assert stats["fingerprints"] == Fingerprint.objects.count() > 0
    assert stats["audio_hours"] == pytest.approx(4 * 24.0 / 3600, rel=0.01)
    assert "database_bytes" not in stats and "fingerprint_table_bytes" not in stats  # staff only


def test_staff_see_the_tables_sizes(staff_client, catalogue):
    stats = staff_client.get("/api/stats/").json()
    assert set(stats["database_bytes"]) == {"fingerprint", "song"}
    assert stats["fingerprint_table_bytes"] == stats["database_bytes"]["fingerprint"]


def test_stats_follow_the_open_setting(anon, user_client, catalogue, settings):
    settings.JAMJAR = {"api_open": False}
    assert anon.get("/api/stats/").status_code == 401
    assert user_client.get("/api/stats/").status_code == 200


def log_three(song):
    for offset_s in (1.0, 2.0):
        Recognition.objects.create(source="api", song=song, offset_s=offset_s, confidence=40, score=0.5)
    Recognition.objects.create(source="file", song=None, confidence=2)


def test_log_is_for_staff_only(anon, user_client, token_client, catalogue):
    log_three(catalogue[11])
    assert anon.get("/api/recognitions/").status_code == 401
    assert user_client.get("/api/recognitions/").status_code == 403
    # A token lets its holder write the catalogue, not read who listened to what.
    assert token_client.get("/api/recognitions/").status_code == 403


def test_log_lists_newest_first_with_the_song(staff_client, catalogue):
    log_three(catalogue[11])
    page = staff_client.get("/api/recognitions/", {"page_size": 2}).json()
    assert page["count"] == 3
    assert page["next"]
    newest, second = page["results"]
    assert (newest["source"], newest["song"], newest["song_title"]) == ("file", None, None)
    assert (second["source"], second["song"], second["song_title"]) == ("api", catalogue[11].pk, "song 11")
    assert second["offset_s"] == 2.0


def test_log_is_read_only(staff_client, catalogue):
    assert staff_client.post("/api/recognitions/", {}, format="json").status_code == 405
