from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import login_throttle, personal_data, signals  # noqa: F401  (receivers)

        personal_data.register_all()
