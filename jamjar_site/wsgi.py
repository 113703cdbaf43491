"""WSGI entry point (plain HTTP only; use asgi.py for the live websocket page)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
application = get_wsgi_application()
