"""The Celery app: batches of catalogue work on workers (`celery -A jamjar_site worker`).

Used only when CELERY_BROKER_URL is set; otherwise every batch runs in the process that
starts it (catalog/jobs.py).  Settings are the CELERY_* names in jamjar_site/settings.py.
"""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")

app = Celery("jamjar_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _task_reads_replicas_until_it_writes(**_kwargs) -> None:
    from jamjar_site.routers import forget_writes

    forget_writes()  # a worker runs many tasks in one thread: each starts afresh
