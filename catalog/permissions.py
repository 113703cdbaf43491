"""Who may use the API: reads follow JAMJAR["api_open"], catalogue writes need staff or a token.

Here rather than in jamjar_site: the rule reads the service settings (recognition.conf),
and the site's own modules import no app (README "Layout").  Recognition's API uses it too.
"""

from __future__ import annotations

from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from recognition import conf


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
