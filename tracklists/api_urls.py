"""Routes of the track list API, included under /api/ (names in the "api" namespace)."""

from django.urls import path

from .api import PlaysView, TracklistsView, TracklistView

urlpatterns = [
    path("tracklists/", TracklistsView.as_view(), name="tracklists"),
    path("tracklists/<int:tracklist_id>/", TracklistView.as_view(), name="tracklist"),
    path("plays/", PlaysView.as_view(), name="plays"),
]
