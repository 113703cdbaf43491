"""A start-up check that JAMJAR_TRACKLIST is valid."""

from django.core.checks import Error, register

from . import conf


@register()
def check_tracklist_settings(app_configs, **kwargs):
    try:
        conf.timeline_settings()
        conf.monitor_settings()
    except (TypeError, ValueError) as exc:
        return [Error(f"JAMJAR_TRACKLIST: {exc}", id="jamjar.E101")]
    return []
