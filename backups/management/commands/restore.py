"""``python manage.py restore PATH``: load a backup made by ``backup`` into an empty database
(the configured one, or ``--database-name``), put back missing model artifacts, and check every
table's row count against the backup's manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.service import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup directory into an empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a backup directory (BACKUP_DIR/<stamp>)")
        parser.add_argument("--database-name", default=None, help="instead of the configured one")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore(options["path"], options["database_name"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
