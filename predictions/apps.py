from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "predictions"

    def ready(self) -> None:
        from predictions import personal_data

        personal_data.register_all()  # accounts.privacy: what this app keeps about a user
