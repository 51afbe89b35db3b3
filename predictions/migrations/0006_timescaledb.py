"""The prediction history as a hypertable where the database gained TimescaleDB after 0002 ran
(idempotent), its retention job from PREDICTION_RETENTION_DAYS, and the daily accuracy
aggregate: a continuous aggregate on TimescaleDB, an ordinary view on plain PostgreSQL."""

from typing import Any

from django.db import migrations

from core.timescale import time_series_table


def forward(apps: Any, schema_editor: Any) -> None:
    from predictions.retention import schedule_retention
    from predictions.time_series import PREDICTION_HISTORY, create_daily_accuracy

    time_series_table(schema_editor, PREDICTION_HISTORY)
    with schema_editor.connection.cursor() as cursor:
        schedule_retention(cursor)
        create_daily_accuracy(cursor)


def backward(apps: Any, schema_editor: Any) -> None:
    from predictions.time_series import drop_daily_accuracy

    with schema_editor.connection.cursor() as cursor:
        drop_daily_accuracy(cursor)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_timescaledb"), ("predictions", "0005_accuracy_ranks")]
    operations = [migrations.RunPython(forward, backward)]
