from django.apps import AppConfig


class ExplanationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "explanations"

    def ready(self) -> None:
        from explanations import personal_data

        personal_data.register_all()  # accounts.privacy: what this app keeps about a user
