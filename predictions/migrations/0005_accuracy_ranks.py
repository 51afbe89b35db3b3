"""Cross-sectional ranks of realised records (the rank IC inputs), backfilled for history."""

from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    from predictions.accuracy import RANK_SQL

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(RANK_SQL.format(groups="TRUE"), {})


class Migration(migrations.Migration):
    dependencies = [("predictions", "0004_unrealised_index")]
    operations = [
        migrations.AddField(
            model_name="predictionrecord",
            name="rank_predicted",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="predictionrecord",
            name="rank_realised",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
