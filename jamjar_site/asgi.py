"""ASGI entry point: HTTP through Django (behind the body limit), websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from jamjar_site.bodylimit import BodyLimitMiddleware
from recognition import conf
from recognition.consumers import OriginOrTokenValidator
from recognition.routing import websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app, limits=conf.service_settings),
        # The session's user, so that api_open can be enforced and the log can say who asked.
        "websocket": OriginOrTokenValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
