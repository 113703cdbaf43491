"""Per-address counts of live sessions and recognitions, kept in Django's cache.

With Redis configured (REDIS_URL) the counts are shared by every server process and survive
a restart of one; a count left behind by a process that died expires with its key.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from jamjar_site.outages import Outage

PERIOD_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Unavailable(Outage):
    """The cache (Redis) cannot be reached: the caller answers "try again later"."""


def _incr(key: str, *, ttl_s: float) -> int:
    timeout = max(1, int(ttl_s))
    try:
        for _ in range(2):
            cache.add(key, 0, timeout=timeout)
            try:
                return cache.incr(key)
            except ValueError:  # expired between add and incr: add it again
                continue
        raise Unavailable(f"the counter {key} keeps expiring")
    except Unavailable:
        raise
    except Exception as exc:  # the backend's own connection errors (redis.ConnectionError, ...)
        raise Unavailable(str(exc)) from exc


def slot_key(client: str) -> str:
    return f"jamjar:live:slots:{client}"


def take_slot(client: str, *, limit: int, ttl_s: float) -> bool:
    """Count one more live session for client unless it already has limit; True if taken.

    ttl_s bounds how long a slot can outlive its session if the process holding it dies.
    """
    key = slot_key(client)
    count = _incr(key, ttl_s=ttl_s)
    try:
        cache.touch(key, max(1, int(ttl_s)))
    except Exception as exc:
        raise Unavailable(str(exc)) from exc
    if count > limit:
        give_back_slot(client)
        return False
    return True


def give_back_slot(client: str) -> None:
    """Give a slot back; never raises (a slot lost to an outage expires with its key)."""
    try:
        if cache.decr(slot_key(client)) <= 0:
            cache.delete(slot_key(client))
    except Exception:
        pass


def slots_in_use(client: str) -> int:
    return int(cache.get(slot_key(client)) or 0)


def within_rate(client: str, rate: str | None, *, scope: str) -> bool:
    """Count one event against rate ("30/minute") in the current fixed window; True if allowed."""
    if rate is None:
        return True
    number, period = rate.split("/")
    period_s = PERIOD_S[period[0]]
    window = int(time.time() // period_s)
    return _incr(f"jamjar:rate:{scope}:{client}:{window}", ttl_s=period_s + 1) <= int(number)
