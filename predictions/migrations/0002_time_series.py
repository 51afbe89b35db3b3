from django.db import migrations

from core.timescale import TimeSeriesPolicy, forward

# Architecture section 2.2: compress after 7 days, keep 90 days.
PREDICTION_HISTORY = TimeSeriesPolicy(
    table="predictions_predictionrecord",
    time_column="data_timestamp",
    chunk_interval="7 days",
    compress_after="7 days",
    retain_for="90 days",
)


class Migration(migrations.Migration):
    dependencies = [("predictions", "0001_initial")]
    operations = [migrations.RunPython(forward(PREDICTION_HISTORY), migrations.RunPython.noop)]
