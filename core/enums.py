"""Names the whole platform shares: model kinds and types, and the size of the feature set.

``ModelKind`` names a trained model ("normal", "earnings": registry, commands, metrics);
``ModelType`` is what a prediction says it came from ("normal_day", "earnings_day": records,
API). The two mappings below are the only place that pairs them.
"""

from __future__ import annotations

from django.db import models


class ModelKind(models.TextChoices):
    NORMAL = "normal", "Normal day"
    EARNINGS = "earnings", "Earnings day"


class ModelType(models.TextChoices):
    NORMAL_DAY = "normal_day", "Normal day"
    EARNINGS_DAY = "earnings_day", "Earnings day"


TYPE_OF_KIND: dict[str, str] = {
    ModelKind.NORMAL: ModelType.NORMAL_DAY,
    ModelKind.EARNINGS: ModelType.EARNINGS_DAY,
}
KIND_OF_TYPE: dict[str, str] = {v: k for k, v in TYPE_OF_KIND.items()}

# The feature set of architecture §3: the normal-day model reads the technical features, the
# earnings-day model all of them. ``features.definitions`` lists the names and checks the counts.
N_TECHNICAL_FEATURES = 20
N_EARNINGS_FEATURES = 17
N_FEATURES = N_TECHNICAL_FEATURES + N_EARNINGS_FEATURES
