"""A start-up check that batches on Celery workers can report their progress."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_queue_progress_is_shared(app_configs, **kwargs):
    if not getattr(settings, "CELERY_BROKER_URL", ""):
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            Error(
                "CELERY_BROKER_URL is set but the cache is this process's own, so the progress "
                "workers record would never reach the web pages and commands that show it.",
                hint="Set REDIS_URL as well (it may be the same Redis, another database number).",
                id="jamjar.E010",
            )
        ]
    return []
