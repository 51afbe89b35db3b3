from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    """Forecasts turned into decisions: backtest, market regime, signals.

    Sits above ``explanations`` and ``predictions`` in the layering (it may import them, never
    the reverse); only ``web`` and ``ops`` import it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "decisions"
