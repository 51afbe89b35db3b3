"""PostgreSQL extensions: pgvector always; TimescaleDB when the server has it."""

from django.db import migrations


def create_extensions(apps, schema_editor) -> None:
    from core.timescale import extension_available

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        if extension_available(cursor, "timescaledb"):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
