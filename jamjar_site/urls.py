"""URL routes: the admin, the identify page and the API."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "jamjar administration"
admin.site.site_title = "jamjar admin"
admin.site.index_title = "Catalogue and recognition log"
# The app sidebar takes 300 px of a 1280 px screen that the song list and the log need.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    # Before the admin: the track list pages (staff) share its upload limit.
    path("admin/tracklists/", include("tracklists.urls")),
    path("admin/", admin.site.urls),
    # Sign in and out of the browsable API (its pages link here).
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include("jamjar_site.api_urls")),
    path("", include("catalog.urls")),
    path("", include("recognition.urls")),
]
