"""Routes of the track list pages (staff), under /admin/tracklists/ so the admin's upload limit applies."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.tracklists, name="tracklists"),
    path("<int:tracklist_id>/", views.tracklist_page, name="tracklist-page"),
    path("<int:tracklist_id>/tracklist.csv", views.tracklist_csv, name="tracklist-csv"),
    path("<int:tracklist_id>/tracklist.cue", views.tracklist_cue, name="tracklist-cue"),
]
