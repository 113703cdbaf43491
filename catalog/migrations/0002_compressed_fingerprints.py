"""On MySQL/MariaDB, store fingerprints in compressed InnoDB pages.

Measured on MariaDB 10.11 with 431k real fingerprints inserted song by song: 59.7 bytes
per row uncompressed, 34.8 with ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8 (see README).
Other databases are left as they are.
"""

from django.db import migrations


def compress(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    table = schema_editor.quote_name(apps.get_model("catalog", "Fingerprint")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8")


def uncompress(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    table = schema_editor.quote_name(apps.get_model("catalog", "Fingerprint")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} ROW_FORMAT=DYNAMIC KEY_BLOCK_SIZE=0")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(compress, uncompress)]
