"""Request bodies over the limit are refused by the production server before they are read."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from tests.conftest import subprocess_env
from tests.servers import JamjarServer, rss_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server():
    served = JamjarServer(subprocess_env(DEBUG="0"))
    yield served
    served.stop()


def post(server, path, *, headers, body=b"", timeout=20):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    started = time.monotonic()
    conn.putrequest("POST", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    try:
        if body:
            conn.send(body)
    except OSError:
        pass  # answered and closed before the body was sent: the point
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type"), response.read(), time.monotonic() - started


def test_declared_length_over_the_limit_is_answered_413_before_any_body(server):
    status, content_type, body, elapsed = post(
        server,
        "/api/recognize/",
        headers={"Content-Type": "application/octet-stream", "Content-Length": "999999999999"},
    )
    assert status == 413
    assert content_type == "application/json"
    assert json.loads(body)["detail"] == (
        "The request body is 999,999,999,999 bytes; the limit is 5,242,880 bytes (5.0 MB)."
    )
    assert elapsed < 5


def test_chunked_body_is_cut_at_the_limit_without_growing_the_server(server):
    resting = rss_bytes(server.process.pid)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    sock.sendall(b"POST /no/such/page/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"\0" * 65536
    sent = 0
    try:
        while sent < 200 * 1024 * 1024:
            sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            sent += len(block)
    except OSError:
        pass
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 100 * 1024 * 1024  # the server stopped reading long before the end
    assert rss_bytes(server.process.pid) - resting < 50 * 1024 * 1024


def test_a_body_that_never_comes_is_answered_408(server, settings):
    status, _content_type, body, _elapsed = post(
        server,
        "/api/recognize/?sample_rate=16000",
        headers={"Content-Type": "application/octet-stream", "Content-Length": "1000"},
        body=b"0123456789",
    )
    assert status == 408
    assert "nothing for 10 s" in json.loads(body)["detail"]
