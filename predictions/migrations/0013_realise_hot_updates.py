"""The realise's update of a record becomes a heap-only tuple (HOT): no index covers a column it
sets, and each page keeps free room for the new row versions.

The partial index ``predrecord_unrealised_idx`` (``target_date WHERE realised_at IS NULL``) made
every realised record a new tuple on another page with four new index entries; the cycle now
finds its due records through ``predrecord_kind_target_idx`` (model type, target day). A
fillfactor of 60 leaves 40 % of each page free: the writer interleaves the horizons of a symbol,
so a target day's realise rewrites about a third of a page's rows, each a little longer than
before. ``bench pipeline`` (30 cycles, 259,983 updates): 90.3 % of them HOT at 70, 100 % at 60
(docs/performance.md). On TimescaleDB the hypertable's new chunks take its storage parameters
and the existing chunks are set here too; chunks are compressed after 7 days, so the free room
costs disk only in the recent ones (on plain PostgreSQL the whole table is ~1.7x larger). Only
new inserts honour the setting (existing pages stay as they are).
"""

from typing import Any

from django.db import migrations

from core.timescale import extension_installed, is_hypertable

TABLE = "predictions_predictionrecord"
FILLFACTOR = 60


def _relations(cursor: Any) -> list[str]:
    if not (extension_installed(cursor, "timescaledb") and is_hypertable(cursor, TABLE)):
        return [TABLE]
    cursor.execute("SELECT show_chunks(%s::regclass)::text", [TABLE])
    return [TABLE, *(row[0] for row in cursor.fetchall())]


def _set(fillfactor: int | None) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        with schema_editor.connection.cursor() as cursor:
            for name in _relations(cursor):
                if fillfactor is None:
                    cursor.execute(f"ALTER TABLE {name} RESET (fillfactor)")
                else:
                    cursor.execute(f"ALTER TABLE {name} SET (fillfactor = {fillfactor})")

    return run


class Migration(migrations.Migration):
    dependencies = [("predictions", "0012_predrecord_symbol_index")]

    operations = [
        migrations.RemoveIndex(model_name="predictionrecord", name="predrecord_unrealised_idx"),
        migrations.RunPython(_set(FILLFACTOR), _set(None)),
    ]
