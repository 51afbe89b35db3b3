from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Whole-platform orchestration above the apps: bootstrap, health, benchmarks runner."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"
