from django.apps import AppConfig


class WebConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "web"

    def ready(self) -> None:
        from web import personal_data

        personal_data.register_all()  # accounts.privacy: what this app keeps about a user
