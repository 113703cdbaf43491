"""An ASGI middleware that caps request bodies before Django reads them.

Django's ASGI handler reads the whole body before any view runs, so a limit checked in a
view comes too late: this one answers 413 from the declared Content-Length before reading a
byte, stops a chunked body at the limit, and gives up on a body that stops arriving (408).
It needs a server that streams bodies to the application (uvicorn, scripts/serve); Daphne
reads the whole body itself first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Protocol

from django.template.defaultfilters import filesizeformat

# A multipart body carries the file plus boundaries, part headers and the small text fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyLimits(Protocol):
    """The settings this middleware reads (recognition.conf.ServiceSettings has them)."""

    api_max_clip_bytes: int
    api_max_track_bytes: int
    admin_max_upload_bytes: int
    max_request_bytes: int
    request_body_timeout_s: float


def body_limit_bytes(path: str, service: BodyLimits, *, multipart: bool = False) -> int:
    """The largest request body taken on this path."""
    overhead = MULTIPART_OVERHEAD_BYTES if multipart else 0
    if path.startswith("/api/recognize/"):
        return service.api_max_clip_bytes + overhead
    if path.startswith("/api/songs/"):
        return service.api_max_track_bytes + overhead
    if path.startswith(("/admin/", "/api/tracklists/")):  # recordings of hours
        return service.admin_max_upload_bytes
    return service.max_request_bytes


def size_message(size_bytes: int, limit_bytes: int, *, what: str = "The request body") -> str:
    """'… is 5,242,882 bytes; the limit is 5,242,880 bytes (5.0 MB).': exact, so a body one
    byte over never reads as equal to the limit."""
    return (
        f"{what} is {size_bytes:,} bytes; the limit is {limit_bytes:,} bytes ({readable_size(limit_bytes)})."
    )


def readable_size(size_bytes: int) -> str:
    return filesizeformat(size_bytes).replace("\xa0", " ")


async def send_json(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            # The rest of the body is never read: the connection cannot be reused.
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """limits() is called for each request (so settings overridden in tests apply); asgi.py
    passes recognition.conf.service_settings, this module imports no app."""

    def __init__(self, app, *, limits: Callable[[], BodyLimits]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        service = self.limits()
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = body_limit_bytes(scope["path"], service, multipart=multipart)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                return await send_json(
                    send, 400, f"Content-Length {declared[:40].decode('latin-1')!r} is not a number of bytes."
                )
            if length > limit:
                return await send_json(send, 413, size_message(length, limit))

        answered = False
        received = 0
        body_done = False

        async def limited_receive():
            nonlocal answered, received, body_done
            if body_done or answered:
                # The body is in; what follows is the disconnect Django listens for.
                return await receive() if not answered else {"type": "http.disconnect"}
            try:
                message = await asyncio.wait_for(receive(), timeout=service.request_body_timeout_s)
            except TimeoutError:
                answered = True
                await send_json(
                    send,
                    408,
                    f"The request body stopped arriving: nothing for {service.request_body_timeout_s:g} s.",
                )
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    answered = True
                    await send_json(
                        send,
                        413,
                        f"The request body is over the limit of {limit:,} bytes ({readable_size(limit)}).",
                    )
                    return {"type": "http.disconnect"}
                body_done = not message.get("more_body", False)
            return message

        async def guarded_send(message):
            if not answered:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)
