"""The identify page."""

from django.shortcuts import render

from . import conf


def identify(request):
    service = conf.service_settings()
    return render(
        request,
        "recognition/identify.html",
        {"ws_path": "/ws/identify/", "max_seconds": service.max_listen_s},
    )
