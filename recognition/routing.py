"""Websocket routes."""

from django.urls import path

from .consumers import IdentifyConsumer

websocket_urlpatterns = [path("ws/identify/", IdentifyConsumer.as_asgi())]
