"""URL routes: the admin, the identify page and the API (README "API").

With asgi.py, the only module of jamjar_site that imports the apps: it wires their views in.
"""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, SimpleRouter

from catalog.api import CatalogueStatsView, SongViewSet
from recognition.api import RecognitionLogView, RecognizeView
from tracklists.api_urls import urlpatterns as tracklist_urls

admin.site.site_header = "jamjar administration"
admin.site.site_title = "jamjar admin"
admin.site.index_title = "Catalogue and recognition log"
# The app sidebar takes 300 px of a 1280 px screen that the song list and the log need.
admin.site.enable_nav_sidebar = False

# The REST API, under /api/ in the "api" namespace.
router = SimpleRouter()
router.register("songs", SongViewSet, basename="song")


class JamjarAPIRoot(APIRootView):
    """jamjar's REST API: the catalogue's songs, recognition of clips, the recognition log
    (staff), catalogue statistics, the OpenAPI schema and its interactive docs.
    README "API" says who may use which."""

    # A list of links gives nothing away, whatever JAMJAR["api_open"] says.
    permission_classes = [AllowAny]


ENDPOINTS = {
    "songs": "song-list",
    "recognize": "recognize",
    "recognitions": "recognitions",
    "stats": "stats",
    "tracklists": "tracklists",
    "plays": "plays",
    "schema": "schema",
    "docs": "docs",
}

api_urlpatterns = [
    path("", JamjarAPIRoot.as_view(api_root_dict=ENDPOINTS), name="root"),
    *router.urls,
    path("recognize/", RecognizeView.as_view(), name="recognize"),
    path("recognitions/", RecognitionLogView.as_view(), name="recognitions"),
    path("stats/", CatalogueStatsView.as_view(), name="stats"),
    *tracklist_urls,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the page has no inline script.
    # Swagger UI sets style attributes from its script, so this page alone allows inline style.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
]


urlpatterns = [
    # Before the admin: the track list pages (staff) share its upload limit.
    path("admin/tracklists/", include("tracklists.urls")),
    path("admin/", admin.site.urls),
    # Sign in and out of the browsable API (its pages link here).
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include((api_urlpatterns, "api"))),
    path("", include("catalog.urls")),
    path("", include("recognition.urls")),
]
