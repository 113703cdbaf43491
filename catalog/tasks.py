"""The catalogue's Celery tasks: one item of a batch (catalog/jobs.py) each."""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task(name="catalog.run_job_item", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job_item(job_id: str, index: int, label: str, work: str, payload) -> None:
    """Item index of batch job_id: work (a "module:function" name) on the decoded payload.

    Acknowledged once done, so an item whose worker dies is handed to another; an item is
    one transaction and recorded once (jobs.run_item), so doing it twice is harmless.
    """
    function = jobs.function_named(work)
    jobs.run_item(job_id, index, label, lambda item: function(jobs.decode(item)), payload)
