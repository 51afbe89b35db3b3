"""Planner statistics for tables that have never had any.

A table (or a TimescaleDB chunk) that was bulk-loaded or just created has no statistics until
autovacuum's next round, up to a minute later; the planner then estimates one row for any
condition and picks nested loops over the wrong index. The cycle's realise statement took
0.7-1.7 s instead of 0.05-0.6 s for its first minute on fresh tables (``bench pipeline``,
docs/performance.md). PostgreSQL's advice is to ANALYZE after a bulk load; this does it for
exactly the relations that were never analysed, so a steady cycle pays one catalogue query.
"""

from __future__ import annotations

from typing import Any

# The relation itself when it has no children, else its children (a hypertable's chunks; the
# root of a hypertable holds no rows). reltuples < 0: never vacuumed or analysed (PG 14+).
_NEVER_ANALYSED = """
SELECT c.oid::regclass::text
FROM pg_class c
WHERE c.relkind = 'r' AND c.reltuples < 0
  AND c.oid IN (
      SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = ANY(%(roots)s::regclass[])
      UNION ALL
      SELECT r FROM unnest(%(roots)s::regclass[]) AS r
      WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = r)
  )
ORDER BY 1
"""


def never_analysed(cursor: Any, tables: list[str]) -> list[str]:
    cursor.execute(_NEVER_ANALYSED, {"roots": tables})
    return [row[0] for row in cursor.fetchall()]


def analyse_new(cursor: Any, tables: list[str]) -> list[str]:
    """ANALYZE each relation of ``tables`` (or chunk of theirs) that has no statistics yet;
    returns their names. ANALYZE does not block reads or writes of the table."""
    names = never_analysed(cursor, tables)
    for name in names:
        cursor.execute(f"ANALYZE {name}")  # names come from pg_class, quoted by regclass
    return names
