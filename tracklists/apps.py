"""Track lists: the songs of a long recording or a live stream, and when each was played."""

from django.apps import AppConfig


class TracklistsConfig(AppConfig):
    name = "tracklists"
    verbose_name = "Track lists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system check)
