"""PostgreSQL extensions: pgvector always; TimescaleDB when the server can load it."""

from typing import Any

from django.db import migrations


def create_extensions(apps: Any, schema_editor: Any) -> None:
    from core.timescale import ensure_extension

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        ensure_extension(cursor)


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
