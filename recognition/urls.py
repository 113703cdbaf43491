"""Routes of the recognition app."""

from django.urls import path

from . import views

urlpatterns = [path("", views.identify, name="identify")]
