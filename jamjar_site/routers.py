"""Catalogue reads to the read replicas (DATABASE_REPLICA_URLS), every write to the primary.

Only the catalogue's tables are read from replicas: they are what every recognition looks up,
and a replica a second or two behind is harmless there.  Everything else (users, sessions,
the recognition log) stays on the primary.  A request, command or task that has written to
the catalogue reads it from the primary from then on, so it never misses its own write; and
so, for DATABASE_REPLICA_PIN_S, do the next requests of the same client (PrimaryPinMiddleware:
a replica that has not caught up yet must not hide the song just uploaded from the page the
upload redirects to).

A replica that cannot be reached is left out for RETRY_S, with one warning; reads go to the
others, or to the primary, and return to it once it answers again, with no restart.  So is a
replica whose replication has stopped or lags more than DATABASE_REPLICA_MAX_LAG_S behind,
until it runs again and has caught up (checked every REPLICATION_CHECK_S).
"""

from __future__ import annotations

import contextlib
import logging
import random
import select
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("jamjar.db")

REPLICATED_APPS = {"catalog"}
# A replica found down is tried again after this many seconds.
RETRY_S = 2.0
# A replica in use is pinged (one round trip) at most this often per thread, in seconds.  A
# server that shuts down or dies closes its connections, which hung_up() sees at no cost
# before every read; only a replica cut off without a word waits for the next ping.
CHECK_S = 1.0
# A replica's replication is checked at most this often per process, in seconds: one
# SHOW ALL SLAVES STATUS, which the server answers from memory.
REPLICATION_CHECK_S = 5.0

# True once the current request, command or task has written to the catalogue.
_wrote_catalogue: ContextVar[bool] = ContextVar("jamjar_wrote_catalogue", default=False)


# True inside primary_reads(): catalogue reads go to the primary though nothing here wrote.
_primary_reads: ContextVar[bool] = ContextVar("jamjar_primary_reads", default=False)

# The cookie that sends a client's next requests' catalogue reads to the primary.
PIN_COOKIE = "jamjar_primary"


def forget_writes(**_signal_kwargs) -> None:
    """A new request or task starts: its reads may go to the replicas again."""
    _wrote_catalogue.set(False)


@contextlib.contextmanager
def primary_reads():
    """Catalogue reads inside the block go to the primary."""
    token = _primary_reads.set(True)
    try:
        yield
    finally:
        _primary_reads.reset(token)


class PrimaryPinMiddleware:
    """Read-your-writes across requests: a response to a request that wrote to the catalogue
    sets PIN_COOKIE for DATABASE_REPLICA_PIN_S seconds, and a request that carries it reads
    the catalogue from the primary.  Without replicas it does nothing."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        with primary_reads() if PIN_COOKIE in request.COOKIES else contextlib.nullcontext():
            response = self.get_response(request)
        if _wrote_catalogue.get() and settings.DATABASE_REPLICA_PIN_S > 0:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_S,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def hung_up(dbapi_connection) -> bool:
    """The server has closed this idle connection (or sent on it unasked): no round trip."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False
    poller = select.poll()
    poller.register(fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(0))


def replication_status(connection) -> list[dict]:
    """SHOW ALL SLAVES STATUS on a MariaDB replica: one dict per replication connection."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW ALL SLAVES STATUS")
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def replication_problem(rows: list[dict], *, max_lag_s: float) -> str | None:
    """Why a replica of this SHOW ALL SLAVES STATUS should not serve catalogue reads, or None."""
    if not rows:
        return "it replicates from nothing (SHOW ALL SLAVES STATUS is empty)"
    for row in rows:
        named = f" ({row['Connection_name']})" if row.get("Connection_name") else ""
        running = row["Slave_IO_Running"], row["Slave_SQL_Running"]
        if running != ("Yes", "Yes"):
            error = row.get("Last_SQL_Error") or row.get("Last_IO_Error")
            return (
                f"its replication{named} has stopped (Slave_IO_Running {running[0]}, Slave_SQL_Running "
                f"{running[1]}{': ' + error if error else ''})"
            )
        lag_s = row["Seconds_Behind_Master"]
        if lag_s is None:
            return f"its replication{named} does not say how far behind it is"
        if lag_s > max_lag_s:
            return f"it is {lag_s} s behind the primary{named}, more than the {max_lag_s:g} s allowed"
    return None


class _Health:
    """Which replicas answer and are up to date: shared by the threads of a process; one
    warning per change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until: dict[str, float] = {}
        self._checked = threading.local()  # alias -> when this thread last found it usable
        self._replication_due: dict[str, float] = {}  # alias -> when to check its replication next
        self._behind: set[str] = set()  # replicas left out until they have caught up
        self._unchecked: set[str] = set()  # replicas whose replication this user may not see

    def usable(self, alias: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._down_until.get(alias, 0.0) > now:
                return False
        checked = self._checked.__dict__
        connection = connections[alias]
        try:
            if connection.connection is None:
                connection.ensure_connection()
            elif hung_up(connection.connection) or now - checked.get(alias, float("-inf")) >= CHECK_S:
                if not connection.is_usable():
                    with contextlib.suppress(Exception):
                        connection.close()
                    connection.ensure_connection()
            else:
                return self._replicating(alias, connection, now)
        except SynchronousOnlyOperation:
            return alias not in self._behind  # asked from async code: the query will run in a thread
        except Exception as exc:
            self._down(alias, exc)
            return False
        checked[alias] = now
        self._up(alias)
        return self._replicating(alias, connection, now)

    def _replicating(self, alias: str, connection, now: float) -> bool:
        """False while the replica's replication is stopped or too far behind (looked at every
        REPLICATION_CHECK_S; in between, what was last found)."""
        with self._lock:
            if connection.vendor != "mysql" or now < self._replication_due.get(alias, 0.0):
                return alias not in self._behind
            self._replication_due[alias] = now + REPLICATION_CHECK_S
        try:
            rows = replication_status(connection)
        except SynchronousOnlyOperation:
            with self._lock:
                self._replication_due[alias] = 0.0  # the next read from sync code looks
            return alias not in self._behind
        except DatabaseError as exc:
            if not connection.is_usable():
                self._down(alias, exc)
                return False
            self._cannot_check(alias, exc)
            return True
        problem = replication_problem(rows, max_lag_s=settings.DATABASE_REPLICA_MAX_LAG_S)
        with self._lock:
            was_behind = alias in self._behind
            if problem:
                self._behind.add(alias)
            else:
                self._behind.discard(alias)
            self._unchecked.discard(alias)
        if problem and not was_behind:
            logger.warning(
                "database replica %s (%s) is not up to date: %s; catalogue reads go to %s until it has caught up",
                alias,
                describe(alias),
                problem,
                others(),
            )
        elif was_behind and not problem:
            logger.warning(
                "database replica %s (%s) is replicating again, within the %g s allowed behind the primary: "
                "catalogue reads go to it again",
                alias,
                describe(alias),
                settings.DATABASE_REPLICA_MAX_LAG_S,
            )
        return problem is None

    def _cannot_check(self, alias: str, exc: Exception) -> None:
        with self._lock:
            told = alias in self._unchecked
            self._unchecked.add(alias)
            self._behind.discard(alias)
        if not told:
            logger.warning(
                "database replica %s (%s): cannot see its replication (SHOW ALL SLAVES STATUS: %s); "
                "it serves catalogue reads without a check that it is up to date (grant the database "
                "user SLAVE MONITOR for the check)",
                alias,
                describe(alias),
                str(exc).strip() or type(exc).__name__,
            )

    def _down(self, alias: str, exc: Exception) -> None:
        with self._lock:
            was_down = alias in self._down_until
            self._down_until[alias] = time.monotonic() + RETRY_S
        if not was_down:
            logger.warning(
                "database replica %s (%s) is unreachable (%s): catalogue reads go to %s until it is back",
                alias,
                describe(alias),
                str(exc).strip() or type(exc).__name__,
                others(),
            )

    def _up(self, alias: str) -> None:
        with self._lock:
            was_down = self._down_until.pop(alias, None) is not None
            if was_down:  # it may have come back without replicating: look before it serves
                self._replication_due.pop(alias, None)
        if was_down:
            logger.warning(
                "database replica %s (%s) is back: catalogue reads go to it again", alias, describe(alias)
            )


_health = _Health()


def describe(alias: str) -> str:
    database = settings.DATABASES[alias]
    return f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 'default port'}"


def others() -> str:
    """Where catalogue reads go while a replica is left out, for the log."""
    return "the other replicas or the primary" if len(replica_aliases()) > 1 else "the primary"


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != DEFAULT_DB_ALIAS]


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when DATABASE_REPLICA_URLS names replicas."""

    def __init__(self) -> None:
        request_started.connect(forget_writes, dispatch_uid="jamjar-forget-catalogue-writes")

    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label not in REPLICATED_APPS or _wrote_catalogue.get() or _primary_reads.get():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS  # a transaction on the primary reads what it wrote
        replicas = replica_aliases()
        random.shuffle(replicas)  # spread the reads over the replicas
        for alias in replicas:
            if _health.usable(alias):
                return alias
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        if model._meta.app_label in REPLICATED_APPS:
            _wrote_catalogue.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replicas hold the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # replicas get the schema through replication
