"""URL routes: the admin, the identify page and the API."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jamjar_site.api_urls")),
    path("", include("catalog.urls")),
    path("", include("recognition.urls")),
]
