"""What the commands' --queue shares: starting a batch on the workers, and following it."""

from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError
from tqdm import tqdm

from catalog import jobs

# How often the progress is read from the cache, seconds.
REFRESH_S = 1.0


def add_queue_arguments(parser, *, items: str, instead: str) -> None:
    """--queue and --no-wait, as every command that can hand its items to the workers takes them."""
    parser.add_argument(
        "--queue",
        action="store_true",
        help=f"{instead} for Celery workers (CELERY_BROKER_URL) instead of working here",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help=f"with --queue: return once the {items} are queued"
    )


def start_queued(start: Callable[[], jobs.Job], *, again: str) -> jobs.Job:
    """The batch start() queues; CommandError without a broker, or when it cannot be reached.

    again says what running the command again does, for the message.
    """
    if not jobs.queue_configured():
        raise CommandError("--queue needs a task queue: set CELERY_BROKER_URL (and REDIS_URL)")
    try:
        return start()
    except jobs.QueueUnavailable as exc:
        raise CommandError(f"{exc}; run again once it is back ({again})") from None


def follow(
    command: BaseCommand, job: jobs.Job, *, desc: str, unit: str, no_progress: bool, again: str
) -> None:
    """A progress bar until the workers are done, each failure on a line of its own.

    Redis lost meanwhile is a CommandError (status 1) saying how far the batch got: each item
    is one transaction, so what is done is whole.
    """
    bar = tqdm(
        total=job.total,
        unit=unit,
        desc=desc,
        disable=True if no_progress else None,
        file=command.stderr._out,
        dynamic_ncols=True,
    )
    shown = 0
    try:
        while not job.wait(timeout_s=REFRESH_S) or shown < len(job.outcomes):
            for outcome in job.outcomes[shown:]:
                if not outcome.ok:
                    bar.write(f"failed: {outcome.label}: {outcome.message}", file=command.stderr._out)
            bar.update(len(job.outcomes) - shown)
            shown = len(job.outcomes)
    except RedisError as exc:
        bar.close()
        raise CommandError(
            f"lost Redis while following batch {job.id} ({exc}): {shown} of {job.total} {unit}(s) were "
            f"done, every song stored is whole; run again once Redis is back to finish ({again})",
            returncode=1,
        ) from None
    finally:
        bar.close()
