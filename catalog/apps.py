"""The catalogue app: songs and their fingerprints."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalogue"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Registered here: the start-up check, and the Celery task that batches queue by name.
        from . import checks, tasks  # noqa: F401
