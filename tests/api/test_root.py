"""/api/: DRF's root view lists the endpoints; the browsable API offers a login link."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = {"songs", "recognize", "recognitions", "stats", "tracklists", "plays", "schema", "docs"}


def test_root_lists_every_endpoint_as_an_absolute_url(client):
    response = client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    assert set(links) == ENDPOINTS
    assert links["songs"] == "http://testserver/api/songs/"
    assert links["docs"] == "http://testserver/api/docs/"
    # Each link leads somewhere real (recognize takes POST only; the log needs staff).
    for url in links.values():
        assert client.get(url.removeprefix("http://testserver")).status_code in {200, 401, 405}


def test_root_answers_even_when_the_api_is_closed(client, settings):
    settings.JAMJAR = {"api_open": False}
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 200
    assert client.get("/api/songs/", HTTP_ACCEPT="application/json").status_code == 401


def test_browsable_api_has_a_login_link_that_signs_in(client, django_user_model):
    page = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert "href='/api/auth/login/?next=/api/'>Log in</a>" in page
    django_user_model.objects.create_user("reader", password="pw-reader-123")
    signed_in = client.post(
        "/api/auth/login/?next=/api/", {"username": "reader", "password": "pw-reader-123", "next": "/api/"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/api/"
    page = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert "reader" in page and "/api/auth/logout/" in page
