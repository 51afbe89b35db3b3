"""TimescaleDB when the extension exists, plain PostgreSQL otherwise.

Migrations call ``time_series_table`` for each time-series table. With TimescaleDB it becomes a
hypertable with the architecture's compression and retention policies; without it, the table
stays ordinary with a BRIN index on its time column, and retention is done by the scheduled task
``predictions.tasks.retention.enforce_retention``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeSeriesPolicy:
    table: str
    time_column: str
    chunk_interval: str
    compress_after: str | None
    retain_for: str | None
    segment_by: str = "symbol_id"


def extension_available(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name])
    return cursor.fetchone() is not None


def extension_installed(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
    return cursor.fetchone() is not None


def time_series_table(schema_editor, policy: TimeSeriesPolicy) -> str:
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


def _hypertable(cursor, policy: TimeSeriesPolicy) -> None:
    table, column = policy.table, policy.time_column
    # Hypertables need every unique index to contain the partitioning column, so the surrogate
    # primary key becomes (id, time).
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table]
    )
    row = cursor.fetchone()
    if row:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{row[0]}"')
        cursor.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (id, "{column}")')
    cursor.execute(
        "SELECT create_hypertable(%s, by_range(%s, %s::interval), migrate_data => true,"
        " if_not_exists => true)",
        [table, column, policy.chunk_interval],
    )
    if policy.compress_after:
        cursor.execute(
            f'ALTER TABLE "{table}" SET (timescaledb.compress,'
            f" timescaledb.compress_segmentby = '{policy.segment_by}')"
        )
        cursor.execute(
            "SELECT add_compression_policy(%s, %s::interval, if_not_exists => true)",
            [table, policy.compress_after],
        )
    if policy.retain_for:
        cursor.execute(
            "SELECT add_retention_policy(%s, %s::interval, if_not_exists => true)",
            [table, policy.retain_for],
        )


def forward(*policies: TimeSeriesPolicy):
    """A RunPython callable for a migration."""

    def _run(apps, schema_editor) -> None:
        for policy in policies:
            time_series_table(schema_editor, policy)

    return _run
