"""User accounts with a commercial tier that the API's rate limits and caps read."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Tier(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


class User(AbstractUser):
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.FREE)

    def __str__(self) -> str:
        return self.username


class Consent(models.Model):
    """What a user agreed to at sign-up: the privacy notice (``accounts.privacy.notice``) as it
    was shown, with its version, so a later change of the notice never rewrites past consent."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    notice_version = models.CharField(max_length=32)
    statement = models.JSONField(help_text="The notice's items as shown: [{data, purpose}]")
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["given_at", "id"]

    def __str__(self) -> str:
        return f"consent {self.notice_version} at {self.given_at:%Y-%m-%d %H:%M}"


class PrivacyEventKind(models.TextChoices):
    EXPORT = "export", "Export"
    ERASURE = "erasure", "Erasure"


class PrivacyEventVia(models.TextChoices):
    API = "api", "REST API"
    WEBSITE = "website", "Profile page"
    ADMIN = "admin", "Admin (operator)"


class PrivacyEvent(models.Model):
    """One export or erasure of a user's data, recorded WITHOUT personal data: no user link, no
    name; ``reference`` is random (handed to the user as a receipt, never derived from the
    account), ``details`` holds counts only."""

    kind = models.CharField(max_length=8, choices=PrivacyEventKind.choices)
    via = models.CharField(max_length=8, choices=PrivacyEventVia.choices)
    reference = models.CharField(max_length=32, unique=True)
    occurred_at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict, blank=True, help_text="Rows per section (counts)")

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} via {self.via} {self.reference}"
