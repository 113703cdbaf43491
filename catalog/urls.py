"""Routes of the catalogue outside the admin and the API."""

from django.urls import path

from . import views

urlpatterns = [path("covers/<int:song_id>/", views.song_cover, name="song-cover")]
