"""TimescaleDB when the server has it loaded, plain PostgreSQL otherwise.

Migrations call ``time_series_table`` for each time-series table. With TimescaleDB it becomes a
hypertable (primary key widened to include the time column, as hypertables need) with the
compression and retention policies of its ``TimeSeriesPolicy``; without it the table stays
ordinary with a BRIN index on its time column, and retention is done by the scheduled task
(``predictions.retention``). Every step is idempotent, so a later migration can run it again on
a database that was created on plain PostgreSQL and has since gained TimescaleDB.

"Has it" means installed in the database; "can have it" (``timescaledb_loadable``) means the
server preloads the library: ``CREATE EXTENSION timescaledb`` fails without the preload even
where the files are present (the embedded plain cluster shares the wheel's installation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TimeSeriesPolicy:
    table: str
    time_column: str
    chunk_interval: str
    compress_after: str | None
    retain_for: str | None
    segment_by: str = "symbol_id"
    order_by: str = ""  # empty: TimescaleDB's default (the time column, descending)


def extension_available(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name])
    return cursor.fetchone() is not None


def extension_installed(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
    return cursor.fetchone() is not None


def timescaledb_loadable(cursor: Any) -> bool:
    """The extension's files are there and the server preloads its library."""
    if not extension_available(cursor, "timescaledb"):
        return False
    cursor.execute("SELECT current_setting('shared_preload_libraries')")
    row = cursor.fetchone()
    return row is not None and "timescaledb" in str(row[0])


def ensure_extension(cursor: Any) -> bool:
    """Create TimescaleDB where the server can load it; returns whether it is installed."""
    if timescaledb_loadable(cursor):
        cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return extension_installed(cursor, "timescaledb")


def is_hypertable(cursor: Any, table: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s", [table]
    )
    return cursor.fetchone() is not None


def time_series_table(schema_editor: Any, policy: TimeSeriesPolicy) -> str:
    """Returns which path ran: "hypertable" or "brin"."""
    with schema_editor.connection.cursor() as cursor:
        if extension_installed(cursor, "timescaledb"):
            _hypertable(cursor, policy)
            return "hypertable"
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{policy.table}_{policy.time_column}_brin" '
            f'ON "{policy.table}" USING brin ("{policy.time_column}")'
        )
        return "brin"


def _primary_key_with_time(cursor: Any, table: str, column: str) -> None:
    # Hypertables need every unique index to contain the partitioning column, so the surrogate
    # primary key becomes (id, time). The ORM keeps ``id`` as its primary key: ids still come
    # from one sequence, and a composite key would bar the models from the admin (Django 5.2).
    cursor.execute(
        "SELECT c.conname, array_agg(a.attname::text) FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'p' GROUP BY c.conname",
        [table],
    )
    row = cursor.fetchone()
    if row and column in row[1]:
        return
    if row:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{row[0]}"')
    cursor.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (id, "{column}")')


def _hypertable(cursor: Any, policy: TimeSeriesPolicy) -> None:
    table, column = policy.table, policy.time_column
    _primary_key_with_time(cursor, table, column)
    # The plain path's BRIN index is redundant next to the hypertable's own time index.
    cursor.execute(f'DROP INDEX IF EXISTS "{table}_{column}_brin"')
    cursor.execute(
        "SELECT create_hypertable(%s, by_range(%s, %s::interval), migrate_data => true,"
        " if_not_exists => true)",
        [table, column, policy.chunk_interval],
    )
    if policy.compress_after:
        cursor.execute(
            "SELECT compression_enabled FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = %s",
            [table],
        )
        row = cursor.fetchone()
        if not (row and row[0]):
            options = [f"timescaledb.compress_segmentby = '{policy.segment_by}'"]
            if policy.order_by:
                options.append(f"timescaledb.compress_orderby = '{policy.order_by}'")
            cursor.execute(
                f'ALTER TABLE "{table}" SET (timescaledb.compress, {", ".join(options)})'
            )
        cursor.execute(
            "SELECT add_compression_policy(%s, %s::interval, if_not_exists => true)",
            [table, policy.compress_after],
        )
    if policy.retain_for:
        set_retention(cursor, table, policy.retain_for)


def set_retention(cursor: Any, table: str, retain_for: str) -> bool:
    """Schedule (or reschedule) the retention job of a hypertable to drop chunks older than
    ``retain_for``. Returns True when the job was created or changed."""
    cursor.execute(
        "SELECT config->>'drop_after' FROM timescaledb_information.jobs"
        " WHERE proc_name = 'policy_retention' AND hypertable_name = %s",
        [table],
    )
    row = cursor.fetchone()
    if row is not None:
        cursor.execute("SELECT %s::interval = %s::interval", [row[0], retain_for])
        same = cursor.fetchone()
        if same and same[0]:
            return False
        cursor.execute("SELECT remove_retention_policy(%s)", [table])
    cursor.execute("SELECT add_retention_policy(%s, %s::interval)", [table, retain_for])
    return True


def forward(*policies: TimeSeriesPolicy) -> Any:
    """A RunPython callable for a migration."""

    def _run(apps: Any, schema_editor: Any) -> None:
        for policy in policies:
            time_series_table(schema_editor, policy)

    return _run


def storage_report(cursor: Any) -> dict[str, Any]:
    """Which storage path this database runs, for benchmarks and docs: "timescaledb" (with
    its version and hypertables) or "plain"."""
    cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    row = cursor.fetchone()
    if row is None:
        return {"path": "plain", "timescaledb": None, "hypertables": []}
    cursor.execute("SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1")
    return {
        "path": "timescaledb",
        "timescaledb": row[0],
        "hypertables": [r[0] for r in cursor.fetchall()],
    }
