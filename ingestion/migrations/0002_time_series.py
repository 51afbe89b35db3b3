from django.db import migrations

from core.timescale import TimeSeriesPolicy, forward

PRICE_BARS = TimeSeriesPolicy(
    table="ingestion_pricebar",
    time_column="timestamp",
    chunk_interval="90 days",
    compress_after="30 days",
    retain_for=None,  # price history trains the models: never dropped
)


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0001_initial")]
    operations = [migrations.RunPython(forward(PRICE_BARS), migrations.RunPython.noop)]
