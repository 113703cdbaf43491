"""What only MySQL/MariaDB does: the clustered key, compressed pages, bytes per fingerprint."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Fingerprint
from catalog.selectors import table_size_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.mysql]


@pytest.fixture(autouse=True)
def only_on_mysql():
    if connection.vendor != "mysql":
        pytest.skip(f"MySQL-specific; this run uses {connection.vendor} (CI runs the suite on MariaDB too)")


def test_fingerprints_are_one_clustered_index_led_by_hash():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT index_name, column_name, seq_in_index FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY index_name, seq_in_index",
            [Fingerprint._meta.db_table],
        )
        rows = cursor.fetchall()
    assert {row[0] for row in rows} == {"PRIMARY"}
    assert [row[1] for row in rows] == ["hash", "song_id", "offset_frames"]


def test_fingerprint_table_is_compressed():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_format FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = %s",
            [Fingerprint._meta.db_table],
        )
        assert cursor.fetchone()[0] == "Compressed"


def test_size_is_reported_from_information_schema(catalogue):
    sizes = table_size_bytes()
    assert sizes["fingerprint"] and sizes["fingerprint"] > 0
