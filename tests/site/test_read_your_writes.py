"""Read-your-writes across requests: a request that writes to the catalogue sets the pin cookie,
and the same client's next requests read the catalogue from the primary while it lasts.

The replica here is a second alias on the test database itself (as settings.py's TEST MIRROR
makes of a real one), so the queries each alias ran show where a read went;
tests/site/test_replicas.py does the same with a real, lagging replica.
"""

from __future__ import annotations

import math

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import Song
from jamjar_site import routers
from jamjar_site.routers import PIN_COOKIE
from tests.audio_fixtures import synth_song, write_wav

URL = "/api/songs/"


@pytest.fixture
def replica(transactional_db, settings):
    """replica1, read through the router.  transactional_db: inside a test's transaction every
    read would go to the primary (the router keeps a transaction's reads where it writes)."""
    # Added to the dict itself: django.db.connections reads the very same one.
    django_settings.DATABASES["replica1"] = {**connections["default"].settings_dict}
    # The test database replicates from nothing, which would keep it out of reads; its
    # replication is not looked at here (tests/site/test_replicas.py checks that for real).
    routers._health._replication_due["replica1"] = math.inf
    settings.DATABASE_ROUTERS = ["jamjar_site.routers.ReplicaRouter"]
    # Connected here: the test case opens no connection of an alias it was not told of, and
    # this one did not exist when it was set up.
    connections["replica1"].connect()
    yield connections["replica1"]
    connections["replica1"].close()
    del connections["replica1"]
    del django_settings.DATABASES["replica1"]
    del routers._health._replication_due["replica1"]


@pytest.fixture
def song(transactional_db) -> Song:
    return Song.objects.create(title="First", sha1="1" * 40, params_version="test")


@pytest.fixture
def staff(transactional_db, django_user_model) -> APIClient:
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("curator", password="pw", is_staff=True))
    return client


def catalogue_reads(connection, request) -> int:
    """How many queries of the song table the connection ran while the client made the request."""
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code < 300, response.content
    return sum("catalog_song" in query["sql"] for query in queries.captured_queries)


def rename(client, song: Song, title: str):
    return client.patch(f"{URL}{song.pk}/", {"title": title}, format="json")


def test_a_catalogue_write_sets_the_pin_cookie(replica, song, staff):
    response = rename(staff, song, "Renamed")
    assert response.status_code == 200
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 5
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] == ""


def test_the_pin_cookie_is_secure_when_the_site_cookies_are_and_lasts_as_set(replica, song, staff, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.DATABASE_REPLICA_PIN_S = 12
    cookie = rename(staff, song, "Renamed").cookies[PIN_COOKIE]
    assert (cookie["secure"], cookie["max-age"]) == (True, 12)


def test_a_delete_sets_the_pin_cookie_too(replica, song, staff):
    response = staff.delete(f"{URL}{song.pk}/")
    assert response.status_code == 204
    assert response.cookies[PIN_COOKIE]["max-age"] == 5


def test_a_pin_of_0_s_sets_no_cookie(replica, song, staff, settings):
    settings.DATABASE_REPLICA_PIN_S = 0
    assert PIN_COOKIE not in rename(staff, song, "Renamed").cookies


def test_reads_without_the_cookie_go_to_the_replica_and_set_none(replica, song):
    client = APIClient()
    assert catalogue_reads(replica, lambda: client.get(URL)) >= 1
    assert catalogue_reads(connections["default"], lambda: client.get(URL)) == 0
    assert PIN_COOKIE not in client.get(URL).cookies


def test_after_a_write_the_same_client_reads_from_the_primary(replica, song, staff):
    rename(staff, song, "Renamed")  # the test client keeps the cookie, as a browser does
    assert catalogue_reads(replica, lambda: staff.get(URL)) == 0
    assert catalogue_reads(connections["default"], lambda: staff.get(URL)) >= 1
    assert PIN_COOKIE not in staff.get(URL).cookies  # a read does not make the pin last longer
    assert rename(staff, song, "Again").cookies[PIN_COOKIE]["max-age"] == 5  # a write does

    assert catalogue_reads(replica, lambda: APIClient().get(URL)) >= 1  # other clients: the replica


def test_the_admin_page_after_adding_a_song_reads_from_the_primary(replica, admin_client, tmp_path):
    track = write_wav(
        tmp_path / "Added.wav", synth_song(21, duration_s=8.0, sample_rate_hz=8000), sample_rate_hz=8000
    )
    fields = {"title": "", "artist": "", "album": ""}
    added = admin_client.post(
        reverse("admin:catalog_song_add"),
        {"audio": SimpleUploadedFile(track.name, track.read_bytes()), **fields},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    assert added.cookies[PIN_COOKIE]["max-age"] == 5
    assert catalogue_reads(replica, lambda: admin_client.get(added.url)) == 0


def test_a_request_with_the_cookie_reads_from_the_primary(replica, song):
    client = APIClient()
    client.cookies[PIN_COOKIE] = "1"
    assert catalogue_reads(replica, lambda: client.get(URL)) == 0
    assert catalogue_reads(connections["default"], lambda: client.get(f"{URL}{song.pk}/")) >= 1


def test_without_replicas_a_write_sets_no_cookie(song, staff):
    assert len(django_settings.DATABASES) == 1
    response = rename(staff, song, "Renamed")
    assert response.status_code == 200
    assert PIN_COOKIE not in response.cookies
