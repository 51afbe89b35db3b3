"""Price bars as a hypertable on databases that gained TimescaleDB after 0002 ran (idempotent:
a no-op where 0002 already made the hypertable, and on plain PostgreSQL)."""

from django.db import migrations

from core.timescale import forward
from ingestion.time_series import PRICE_BARS


class Migration(migrations.Migration):
    dependencies = [("core", "0002_timescaledb"), ("ingestion", "0003_quarantine_runs")]
    operations = [migrations.RunPython(forward(PRICE_BARS), migrations.RunPython.noop)]
