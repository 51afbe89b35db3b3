"""A password change revokes every token of the user; any save refreshes the cached auth state."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.auth_state import forget
from accounts.models import User

log = logging.getLogger(__name__)


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
def user_saved(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        return
    forget(instance.pk)
    # AbstractBaseUser.set_password() keeps the raw password in _password until save() finishes.
    if getattr(instance, "_password", None) is not None:
        revoke_refresh_tokens(instance)


def revoke_refresh_tokens(user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many were added."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    added = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    if added:
        log.info("Revoked %d refresh tokens of user %s (password changed)", len(added), user.pk)
    return len(added)
