"""ASGI entry point: HTTP through Django (behind the body limit), websockets through Channels."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from jamjar_site.bodylimit import BodyLimitMiddleware  # noqa: E402
from recognition.consumers import OriginOrTokenValidator  # noqa: E402
from recognition.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        # The session is read (lazily) only when api_open is off; see IdentifyConsumer.connect.
        "websocket": OriginOrTokenValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
