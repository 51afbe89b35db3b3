"""TimescaleDB for databases created before the server preloaded it (0001 then skipped it)."""

from typing import Any

from django.db import migrations


def create_timescaledb(apps: Any, schema_editor: Any) -> None:
    from core.timescale import ensure_extension

    with schema_editor.connection.cursor() as cursor:
        ensure_extension(cursor)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_extensions")]
    operations = [migrations.RunPython(create_timescaledb, migrations.RunPython.noop)]
