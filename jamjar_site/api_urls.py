"""Routes of the REST API, under /api/ (README "API")."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
