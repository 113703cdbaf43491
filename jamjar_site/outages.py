"""What counts as an outage (database or cache down), and what the client is told then."""

from __future__ import annotations

# While the database or Redis is down: what the client is told, and when to try again.
UNAVAILABLE_DETAIL = (
    "The catalogue is unavailable right now (database or cache down): try again in a few seconds."
)
RETRY_AFTER_S = 5


class Outage(Exception):
    """A service the request needs cannot be reached; the apps' own such errors subclass it
    (recognition.limits.Unavailable), so the site answers them without importing the apps."""


def is_outage(exc: BaseException) -> bool:
    """A database or cache connection failure, as opposed to a bug."""
    from django.db import DatabaseError, InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, Outage)):
        return True
    return isinstance(exc, DatabaseError) and "connect" in str(exc).lower()
