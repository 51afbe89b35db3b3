"""PostgreSQL extensions: pgvector always; TimescaleDB when the server has it and preloads it
(an installed but not preloaded TimescaleDB cannot be created)."""

from django.db import migrations


def create_extensions(apps, schema_editor) -> None:
    from core.timescale import extension_available

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        cursor.execute("SELECT current_setting('shared_preload_libraries')")
        preloaded = "timescaledb" in cursor.fetchone()[0]
        if preloaded and extension_available(cursor, "timescaledb"):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
