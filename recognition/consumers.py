"""The /ws/identify/ websocket: a thin door between the protocol and LiveSession."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer

from . import conf, services
from .live import (
    CLOSE_CATALOGUE,
    CLOSE_CONFLICT,
    CLOSE_NORMAL,
    CLOSE_TIMEOUT,
    CLOSE_TOO_MANY,
    LiveSession,
    ProtocolError,
    parse_start,
)

logger = logging.getLogger("jamjar.live")

# Live sessions per client address, in this server process.
_sessions_per_client: Counter = Counter()
_pool: ThreadPoolExecutor | None = None


def _worker_pool() -> ThreadPoolExecutor:
    # One pool for every stream: fingerprinting and lookups leave the event loop, and
    # several streams run at once instead of queueing on asgiref's single sync thread.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=conf.service_settings().live_worker_threads, thread_name_prefix="jamjar-live")
    return _pool


def off_loop(func):
    """Run func on the worker pool, with Django's stale-connection clean-up around it."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_worker_pool())


async def on_pool(func, *args):
    """Run func on the worker pool, nothing more: for the per-frame hot path, whose
    database use is one SELECT on a connection that off_loop() calls keep healthy."""
    return await asyncio.get_running_loop().run_in_executor(_worker_pool(), func, *args)


class IdentifyConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.service = conf.service_settings()
        self.session: LiveSession | None = None
        self.finished = False
        client = self.scope.get("client") or ("unknown", 0)
        self.client_key = client[0]
        if _sessions_per_client[self.client_key] >= self.service.max_sessions_per_client:
            await self.accept()
            self.client_key = None
            await self._fail(
                ProtocolError(
                    "too-many-sessions",
                    f"at most {self.service.max_sessions_per_client} live sessions per client address",
                    CLOSE_TOO_MANY,
                )
            )
            return
        _sessions_per_client[self.client_key] += 1
        await self.accept()
        self._timeout = asyncio.get_running_loop().call_later(self.service.session_timeout_s, self._expire)

    def _expire(self) -> None:
        if not self.finished:
            message = f"the session lasted longer than {self.service.session_timeout_s:g} s"
            asyncio.ensure_future(self._fail(ProtocolError("session-timeout", message, CLOSE_TIMEOUT)))

    async def disconnect(self, code) -> None:
        self._release()

    def _release(self) -> None:
        """Free the stream's state and its place in the per-address count (idempotent)."""
        self.session = None
        timeout = getattr(self, "_timeout", None)
        if timeout is not None:
            timeout.cancel()
            self._timeout = None
        if getattr(self, "client_key", None) is not None:
            _sessions_per_client[self.client_key] -= 1
            if _sessions_per_client[self.client_key] <= 0:
                del _sessions_per_client[self.client_key]
            self.client_key = None

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.finished:
            return
        try:
            if text_data is not None:
                await self._control(text_data)
            elif bytes_data is not None:
                await self._audio(bytes_data)
        except ProtocolError as error:
            await self._fail(error)
        except services.CatalogueVersionMismatch as exc:
            await self._fail(ProtocolError("catalogue-version", str(exc), CLOSE_CATALOGUE))

    async def _control(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            raise ProtocolError("bad-json", "text messages must be JSON control messages") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError("bad-message", 'control messages are JSON objects with a "type"')
        kind = message["type"]
        if kind == "start":
            if self.session is not None:
                raise ProtocolError("already-started", "this stream has already started", CLOSE_CONFLICT)
            rate = parse_start(message, self.service)
            self.session = await off_loop(lambda: LiveSession(sample_rate_hz=rate, service=self.service))()
            await self._send({"type": "listening", "sample_rate": rate, "max_seconds": self.service.max_listen_s})
        elif kind == "stop":
            if self.session is None:
                raise ProtocolError("not-started", 'send {"type": "start", ...} first', CLOSE_CONFLICT)
            await self._finish(await off_loop(self.session.stop)())
        else:
            raise ProtocolError("unknown-type", f"unknown message type {kind[:40]!r}; expected start or stop")

    async def _audio(self, frame: bytes) -> None:
        if self.session is None:
            raise ProtocolError("not-started", 'send {"type": "start", ...} before audio', CLOSE_CONFLICT)
        step = await on_pool(self.session.feed, frame)
        if step.done:
            await self._finish(step)
        else:
            for message in step.messages:
                await self._send(message)

    async def _finish(self, step) -> None:
        self.finished = True
        for message in step.messages:
            await self._send(message)
        if step.result is not None:
            client = (self.scope.get("client") or ("",))[0]
            user = self.scope.get("user")  # AuthMiddlewareStack (asgi.py): the session's user
            await off_loop(services.log_recognition)(step.result, source="browser", client_address=client, user=user)
        self._release()
        await self.close(code=CLOSE_NORMAL)

    async def _fail(self, error: ProtocolError) -> None:
        self.finished = True
        await self._send(error.as_message())
        self._release()
        await self.close(code=error.close_code)

    async def _send(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))
