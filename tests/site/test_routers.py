"""When a replica's own replication status (SHOW ALL SLAVES STATUS) keeps it out of catalogue reads.

The rows are the fields MariaDB 10.11 gave for a replica that runs, that was stopped (STOP SLAVE)
and that was delayed (MASTER_DELAY); tests/site/test_replicas.py checks the same with a real
primary and replica.
"""

from __future__ import annotations

import pytest

from jamjar_site.routers import replication_problem


def status(io="Yes", sql="Yes", lag_s=0, name="", **errors) -> dict:
    return {
        "Connection_name": name,
        "Slave_IO_Running": io,
        "Slave_SQL_Running": sql,
        "Seconds_Behind_Master": lag_s,
        "Last_IO_Error": errors.get("io_error", ""),
        "Last_SQL_Error": errors.get("sql_error", ""),
    }


def test_a_running_replica_within_the_bound_serves():
    assert replication_problem([status(lag_s=0)], max_lag_s=30) is None
    assert replication_problem([status(lag_s=30)], max_lag_s=30) is None


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [status(io="No", sql="No", lag_s=None)],
            "its replication has stopped (Slave_IO_Running No, Slave_SQL_Running No)",
        ),
        (
            [status(sql="No", lag_s=None, sql_error="Duplicate entry '7' for key 'PRIMARY'")],
            "its replication has stopped (Slave_IO_Running Yes, Slave_SQL_Running No: Duplicate entry '7'",
        ),
        ([status(io="Connecting")], "Slave_IO_Running Connecting"),
        ([status(lag_s=31)], "it is 31 s behind the primary, more than the 30 s allowed"),
        ([status(lag_s=None)], "does not say how far behind it is"),
        ([status(name="east"), status(name="west", lag_s=90)], "it is 90 s behind the primary (west)"),
        ([], "it replicates from nothing (SHOW ALL SLAVES STATUS is empty)"),
    ],
)
def test_a_stopped_or_lagging_replica_is_left_out_and_the_reason_given(rows, problem):
    assert problem in replication_problem(rows, max_lag_s=30)
