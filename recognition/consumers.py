"""The /ws/identify/ websocket: a thin door between the protocol and LiveSession."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator
from django.db import DatabaseError, connection

from . import conf, limits, services
from .live import (
    CLOSE_CATALOGUE,
    CLOSE_CONFLICT,
    CLOSE_FORBIDDEN,
    CLOSE_NORMAL,
    CLOSE_TIMEOUT,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHORIZED,
    CLOSE_UNAVAILABLE,
    LiveSession,
    ProtocolError,
    parse_control,
    parse_start,
)

logger = logging.getLogger("jamjar.live")

_pool: ThreadPoolExecutor | None = None


def _worker_pool() -> ThreadPoolExecutor:
    # One pool for every stream: fingerprinting and lookups leave the event loop, and
    # several streams run at once instead of queueing on asgiref's single sync thread.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=conf.service_settings().live_worker_threads, thread_name_prefix="jamjar-live"
        )
    return _pool


def off_loop(func):
    """Run func on the worker pool, with Django's stale-connection clean-up around it."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_worker_pool())


async def on_pool(func, *args):
    """Run func on the worker pool, nothing more: for the per-frame hot path, whose
    database use is one SELECT on a connection that off_loop() calls keep healthy."""
    return await asyncio.get_running_loop().run_in_executor(_worker_pool(), func, *args)


class IdentifyConsumer(AsyncWebsocketConsumer):
    # The consumer talks to no other consumer: without a channel layer, a Redis outage
    # cannot kill live streams through the layer's receive loop (an alias with no layer).
    channel_layer_alias = "jamjar-live-uses-no-channel-layer"

    async def __call__(self, scope, receive, send) -> None:
        # Every exit (close, error, a send to a client that has gone) gives the slot back.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()

    async def dispatch(self, message) -> None:
        # Channels closes stale database connections before every message, a hop to asgiref's
        # one sync thread each time.  An audio frame does not touch this thread's connection
        # (it is matched on the pool, whose connection feed_or_reconnect() looks after), and at
        # four frames a second the hops were a tenth of a stream's server CPU: frames skip it.
        if message["type"] == "websocket.receive" and message.get("bytes") is not None:
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        self.service = conf.service_settings()
        self.session: LiveSession | None = None
        self.finished = False
        self.frames = 0
        self.client_key = None
        await self.accept()
        token = token_from(self.scope)
        try:
            if token is not None:
                user = await off_loop(user_for_token)(token)
                if user is None:
                    await self._fail(
                        ProtocolError("bad-token", "the Authorization token is not valid", CLOSE_UNAUTHORIZED)
                    )
                    return
            elif not self.service.api_open:
                user = await get_user(self.scope)
                if not user.is_authenticated:
                    await self._fail(
                        ProtocolError(
                            "not-allowed", "live recognition needs a signed-in user here", CLOSE_FORBIDDEN
                        )
                    )
                    return
        except DatabaseError:
            await self._fail(unavailable())
            return
        client = (self.scope.get("client") or ("unknown", 0))[0]
        try:
            taken = await sync_to_async(limits.take_slot)(
                client, limit=self.service.max_sessions_per_client, ttl_s=self.service.session_timeout_s + 5
            )
        except limits.Unavailable:
            await self._fail(unavailable())
            return
        if not taken:
            await self._fail(
                ProtocolError(
                    "too-many-sessions",
                    f"at most {self.service.max_sessions_per_client} live sessions per client address",
                    CLOSE_TOO_MANY,
                )
            )
            return
        self.client_key = client
        self._timeout = asyncio.get_running_loop().call_later(self.service.session_timeout_s, self._expire)

    def _expire(self) -> None:
        if not self.finished:
            message = f"the session lasted longer than {self.service.session_timeout_s:g} s"
            # Keep a reference: the loop holds tasks only weakly.
            self._expiry = asyncio.ensure_future(
                self._fail(ProtocolError("session-timeout", message, CLOSE_TIMEOUT))
            )

    async def disconnect(self, code) -> None:
        self._release()

    def _release(self) -> None:
        """Free the stream's state and its place in the per-address count (idempotent)."""
        self.session = None
        timeout = getattr(self, "_timeout", None)
        if timeout is not None:
            timeout.cancel()
            self._timeout = None
        client, self.client_key = getattr(self, "client_key", None), None
        if client is not None:
            limits.give_back_slot(client)

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
        except (DatabaseError, limits.Unavailable) as exc:
            logger.warning("live stream stopped, a service is down: %s", exc)
            await self._fail(unavailable())

    async def _control(self, text: str) -> None:
        message = parse_control(text)
        kind = message["type"]
        if kind == "start":
            if self.session is not None:
                raise ProtocolError("already-started", "this stream has already started", CLOSE_CONFLICT)
            rate = parse_start(message, self.service)
            client = self.client_key
            if not await sync_to_async(limits.within_rate)(
                client, self.service.live_recognize_rate, scope="live"
            ):
                raise ProtocolError(
                    "too-many-recognitions",
                    f"at most {self.service.live_recognize_rate} live recognitions per client address",
                    CLOSE_TOO_MANY,
                )
            self.session = await off_loop(lambda: LiveSession(sample_rate_hz=rate, service=self.service))()
            await self._send(
                {"type": "listening", "sample_rate": rate, "max_seconds": self.service.max_listen_s}
            )
        elif kind == "stop":
            if self.session is None:
                raise ProtocolError("not-started", 'send {"type": "start", ...} first', CLOSE_CONFLICT)
            await self._finish(await off_loop(self.session.stop)())
        else:
            raise ProtocolError("unknown-type", f"unknown message type {kind[:40]!r}; expected start or stop")

    async def _audio(self, frame: bytes) -> None:
        if self.session is None:
            raise ProtocolError("not-started", 'send {"type": "start", ...} before audio', CLOSE_CONFLICT)
        self.frames += 1
        if self.frames > self.service.max_frames_per_s * (self.session.seconds + 1.0):
            raise ProtocolError(
                "too-many-frames",
                f"at most {self.service.max_frames_per_s:g} frames per second of audio: send longer frames",
                CLOSE_TOO_MANY,
            )
        step = await on_pool(feed_or_reconnect, self.session, frame)
        if step.done:
            await self._finish(step)
        else:
            for message in step.messages:
                await self._send(message)

    async def _finish(self, step) -> None:
        self.finished = True
        try:
            for message in step.messages:
                await self._send(message)
        finally:
            # The answer is logged and the slot freed even when the client has already gone.
            self._release()
            if step.result is not None:
                client = (self.scope.get("client") or ("",))[0]
                user = self.scope.get("user")  # AuthMiddlewareStack (asgi.py): the session's user
                await off_loop(services.log_recognition)(
                    step.result, source="browser", client_address=client, user=user
                )
        await self.close(code=CLOSE_NORMAL)

    async def _fail(self, error: ProtocolError) -> None:
        self.finished = True
        try:
            await self._send(error.as_message())
        finally:
            self._release()
        await self.close(code=error.close_code)

    async def _send(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))


def token_from(scope) -> str | None:
    """The key of an "Authorization: Token <key>" header, if the client sent one."""
    value = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
    kind, _, key = value.partition(" ")
    return key.strip() if kind.lower() == "token" and key.strip() else None


def user_for_token(key: str):
    """The active user holding this API token, else None."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else None


class OriginOrTokenValidator:
    """Browsers must come from an allowed Origin (they send their cookies to any site's
    websocket); a client that sends an API token is not a browser riding on cookies, so it
    may omit Origin: the consumer checks its token instead."""

    def __init__(self, app) -> None:
        self.app = app
        self.origin_checked = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        if token_from(scope) is not None:
            return await self.app(scope, receive, send)
        return await self.origin_checked(scope, receive, send)


def unavailable() -> ProtocolError:
    return ProtocolError(
        "unavailable", "the catalogue is unavailable right now: try again in a few seconds", CLOSE_UNAVAILABLE
    )


def feed_or_reconnect(session: LiveSession, frame: bytes):
    """session.feed on a pool thread; a database error drops that thread's connection, so
    the next frame after an outage opens a fresh one instead of reusing the dead one."""
    try:
        return session.feed(frame)
    except DatabaseError:
        connection.close()
        raise
