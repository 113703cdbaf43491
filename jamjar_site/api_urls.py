"""Routes of the REST API, under /api/ (README "API")."""

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from catalog.api import CatalogueStatsView, SongViewSet
from recognition.api import RecognitionLogView, RecognizeView

app_name = "api"

router = SimpleRouter()
router.register("songs", SongViewSet, basename="song")

urlpatterns = [
    *router.urls,
    path("recognize/", RecognizeView.as_view(), name="recognize"),
    path("recognitions/", RecognitionLogView.as_view(), name="recognitions"),
    path("stats/", CatalogueStatsView.as_view(), name="stats"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the page has no inline script.
    # Swagger UI sets style attributes from its script, so this page alone allows inline style.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
]
