"""What every API view shares: who may do what, pagination, JSON errors and upload limits."""

from __future__ import annotations

import errno
import time

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import AnonRateThrottle

from catalog.uploads import decode_error_for
from jamjar_site.bodylimit import MULTIPART_OVERHEAD_BYTES, size_message
from recognition import conf
from recognition.engine.audio import AudioDecodeError


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class NotAudio(exceptions.APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "The upload is not audio jamjar can decode."
    default_code = "not_audio"


class CatalogueUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The catalogue cannot be searched right now."
    default_code = "catalogue_unavailable"


class InsufficientStorage(exceptions.APIException):
    status_code = status.HTTP_507_INSUFFICIENT_STORAGE
    default_detail = (
        "The server's disk is full: the upload could not be stored. Nothing was kept; try again later."
    )
    default_code = "disk_full"


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


# While the database or Redis is down: what the client is told, and when to try again.
UNAVAILABLE_DETAIL = (
    "The catalogue is unavailable right now (database or cache down): try again in a few seconds."
)
RETRY_AFTER_S = 5


def is_outage(exc: BaseException) -> bool:
    """A database or cache connection failure, as opposed to a bug."""
    from django.db import DatabaseError, InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from recognition.limits import Unavailable as CountsUnavailable

    if isinstance(
        exc, (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, CountsUnavailable)
    ):
        return True
    return isinstance(exc, DatabaseError) and "connect" in str(exc).lower()


class ErrorSerializer(serializers.Serializer):
    """The body of every error (validation errors name their fields instead)."""

    detail = serializers.CharField()


def error_responses(*statuses: int) -> dict:
    """The schema's error responses of an endpoint, for extend_schema(responses=...)."""
    return {code: OpenApiResponse(ErrorSerializer) for code in statuses}


def exception_handler(exc, context):
    """DRF's handler, with Django's own refusals of a request body answered in JSON too."""
    # Imported here: DRF imports this module while rest_framework.views is half loaded.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc))
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields or files, an unusable file name: the client's request, not our fault.
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")
    elif is_outage(exc):
        exc = Unavailable(UNAVAILABLE_DETAIL)
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        exc = InsufficientStorage()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare list of messages (DRF's search filter on "?search=%00"): the documented shape.
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    if response is not None and isinstance(exc, Unavailable):
        response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class OpenOrSignedIn(BasePermission):
    """Anyone while JAMJAR["api_open"] is on (the default), else signed-in users only."""

    def has_permission(self, request, view) -> bool:
        return conf.service_settings().api_open or bool(request.user and request.user.is_authenticated)


class CatalogueAccess(OpenOrSignedIn):
    """Reads as OpenOrSignedIn; writes need a staff user or an API token.

    Tokens are issued only by an administrator (`manage.py drf_create_token`, or the
    admin), so holding one is the permission to write.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return super().has_permission(request, view)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff) or isinstance(request.successful_authenticator, TokenAuthentication)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class AnonymousRecognitionThrottle(AnonRateThrottle):
    """Anonymous recognitions per client address, at JAMJAR["api_anon_recognize_rate"].

    Counted like the websocket's limits (recognition/limits.py): one atomic increment in
    Django's cache per request, in fixed windows, so every server process sharing Redis
    (REDIS_URL) counts together, even requests that arrive at the same instant.  DRF's own
    throttle reads, appends and writes back a list of times, and two processes doing that
    at once both let their request through.
    """

    scope = "anon_recognize"

    def get_rate(self) -> str | None:
        return conf.service_settings().api_anon_recognize_rate

    def allow_request(self, request, view) -> bool:
        from recognition import limits

        if self.rate is None or (request.user and request.user.is_authenticated):
            return True
        return limits.within_rate(self.get_ident(request), self.rate, scope=self.scope)

    def wait(self) -> float:
        """Seconds until the current window ends and the count starts again."""
        return self.duration - time.time() % self.duration


def refuse_oversized_body(request, *, max_bytes: int) -> None:
    """Answer 413 before anything reads a body whose declared length is over the limit."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        raise exceptions.ParseError(f"Content-Length {declared[:40]!r} is not a number of bytes.") from None
    if length < 0:
        raise exceptions.ParseError("Content-Length cannot be negative.")
    multipart = (request.content_type or "").lower().startswith("multipart/")
    if length > max_bytes + (MULTIPART_OVERHEAD_BYTES if multipart else 0):
        raise PayloadTooLarge(size_message(length, max_bytes))


def refuse_oversized_upload(upload, *, max_bytes: int) -> None:
    if upload.size > max_bytes:
        raise PayloadTooLarge(size_message(upload.size, max_bytes, what=upload.name))


def not_audio(exc: AudioDecodeError, *, path: str, name: str) -> NotAudio:
    """A 415 that names the upload, not the temporary file it was read from."""
    return NotAudio(f"This is not audio jamjar can decode: {decode_error_for(exc, path=path, name=name)}")
