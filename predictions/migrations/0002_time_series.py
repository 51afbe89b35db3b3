from django.db import migrations

from core.timescale import forward
from predictions.time_series import PREDICTION_HISTORY


class Migration(migrations.Migration):
    dependencies = [("predictions", "0001_initial")]
    operations = [migrations.RunPython(forward(PREDICTION_HISTORY), migrations.RunPython.noop)]
