"""Celery task of the backups app (beat entry ``daily-backup``; queue ingest)."""

from __future__ import annotations

from celery import shared_task

from backups.service import backup


@shared_task(name="backups.tasks.daily_backup", time_limit=3600, soft_time_limit=3300)
def daily_backup() -> str:
    return str(backup())
