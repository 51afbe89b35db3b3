from django.db import migrations

from core.timescale import forward
from ingestion.time_series import PRICE_BARS


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0001_initial")]
    operations = [migrations.RunPython(forward(PRICE_BARS), migrations.RunPython.noop)]
