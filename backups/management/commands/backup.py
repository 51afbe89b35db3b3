"""``python manage.py backup``: the database (pg_dump custom format) and the active model
artifacts into ``BACKUP_DIR``, keeping the newest ``BACKUP_KEEP`` (beat runs it daily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backups.service import backup


class Command(BaseCommand):
    help = "Back up the database and the active model artifacts into BACKUP_DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="instead of BACKUP_DIR")
        parser.add_argument("--keep", type=int, default=None, help="instead of BACKUP_KEEP")

    def handle(self, *args: Any, **options: Any) -> None:
        path = backup(options["dir"], options["keep"])
        self.stdout.write(str(path))
