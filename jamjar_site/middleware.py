"""Every answer under /api/ in the API's JSON error shape, whatever went wrong and where."""

from __future__ import annotations

import logging
import uuid

from django.http import JsonResponse

from jamjar_site.outages import RETRY_AFTER_S, UNAVAILABLE_DETAIL, is_outage

logger = logging.getLogger("jamjar.api")


class ApiErrorMiddleware:
    """A failure the view did not answer (a bug, a database down) becomes JSON: 503 with
    Retry-After for an outage, else 500 with a request id that the log line also carries.
    Django's own HTML errors under /api/ (404 for an unknown URL, 400 for a bad Host) are
    turned into {"detail": ...} too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json") or response.status_code >= 500:
            return response
        jsoned = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                jsoned[header] = response[header]
        return jsoned

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        if is_outage(exception):
            logger.warning("%s %s: service unavailable: %s", request.method, request.path, exception)
            response = JsonResponse({"detail": UNAVAILABLE_DETAIL}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_S)
            return response
        request_id = uuid.uuid4().hex[:16]
        logger.error("request %s failed: %s %s", request_id, request.method, request.path, exc_info=exception)
        body = {
            "detail": f"Internal error. The server's log has the details under request id {request_id}.",
            "request_id": request_id,
        }
        response = JsonResponse(body, status=500)
        response["X-Request-ID"] = request_id
        return response
