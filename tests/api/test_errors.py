"""Every API error has the documented shape {"detail": ...}, from the view or from below it."""

from __future__ import annotations

import http.client
import json
import logging

import pytest

from tests.conftest import subprocess_env
from tests.servers import JamjarServer


@pytest.mark.django_db
def test_an_unexpected_failure_is_a_json_500_whose_request_id_is_in_the_log(anon, settings, caplog):
    settings.JAMJAR = {"no_such_key": 1}  # every view that reads the settings now raises
    with caplog.at_level(logging.ERROR, logger="jamjar.api"):
        response = anon.post("/api/recognize/", b"\0\0", content_type="application/octet-stream")
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] in body["detail"]
    assert response["X-Request-ID"] == body["request_id"]
    assert any(body["request_id"] in record.getMessage() and record.exc_info for record in caplog.records)


@pytest.mark.django_db
def test_a_null_character_in_search_is_a_400_detail_not_a_bare_list(anon):
    response = anon.get("/api/songs/?search=%00")
    assert response.status_code == 400
    assert response.json() == {"detail": "Null characters are not allowed."}


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(anon):
    response = anon.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.django_db
def test_a_body_two_bytes_over_says_so_in_bytes(anon, settings):
    limit = 5 * 1024 * 1024
    response = anon.post(
        "/api/recognize/?sample_rate=16000", b"\0" * (limit + 2), content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert (
        response.json()["detail"]
        == "The request body is 5,242,882 bytes; the limit is 5,242,880 bytes (5.0 MB)."
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_production_server_answers_malformed_multipart_and_429_in_json():
    server = JamjarServer(
        subprocess_env(DEBUG="0", JAMJAR=json.dumps({"api_anon_recognize_rate": "3/minute"}))
    )
    try:

        def post(body, content_type):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
            conn.request("POST", "/api/recognize/", body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            return response.status, response.reason, response.getheader("Content-Type"), response.read()

        for malformed, content_type in (
            (b"not multipart at all", "multipart/form-data; boundary=xyz"),
            (
                b"--xyz\r\nContent-Disposition: form-data; name=audio; filename=a\r\n\r\nab",
                "multipart/form-data; boundary=xyz",
            ),
            (b"--xyz--", "multipart/form-data"),
        ):
            status, _, answered_type, body = post(malformed, content_type)
            assert (status, answered_type) == (400, "application/json"), body
            assert json.loads(body).get("detail") or json.loads(body).get("audio"), body
        status, reason, content_type, body = post(b"\0\0", "application/octet-stream")
        assert (status, reason, content_type) == (429, "Too Many Requests", "application/json"), body
        assert "throttled" in json.loads(body)["detail"].lower()
    finally:
        server.stop()
