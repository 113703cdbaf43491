"""What every API view shares: pagination, JSON errors and request size limits.

App-agnostic: the apps import this module, never the other way round (README "Layout").
"""

from __future__ import annotations

import errno

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination

from jamjar_site.bodylimit import MULTIPART_OVERHEAD_BYTES, size_message
from jamjar_site.outages import RETRY_AFTER_S, UNAVAILABLE_DETAIL, is_outage


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


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


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


def not_audio(reason: str) -> NotAudio:
    """A 415 giving the decoder's reason, which names the upload (catalog.uploads.decode_error_for)."""
    return NotAudio(f"This is not audio jamjar can decode: {reason}")
