"""A password change revokes every token of the user; any save of the user or revocation of one
of its refresh tokens refreshes the cached auth state and re-checks its open WebSocket sessions."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from accounts.sessions import notify

log = logging.getLogger(__name__)


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
def user_saved(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a login touches nothing the sessions depend on
    # AbstractBaseUser.set_password() keeps the raw password in _password until save() finishes.
    if getattr(instance, "_password", None) is not None:
        revoke_refresh_tokens(instance)
    notify(instance.pk)


@receiver(post_save, sender=BlacklistedToken, dispatch_uid="accounts.token_revoked")
def token_revoked(
    sender: type[BlacklistedToken], instance: BlacklistedToken, created: bool, **kwargs: Any
) -> None:
    if created and instance.token.user_id is not None:
        notify(instance.token.user_id, revoked_session=instance.token.jti)


def revoke_refresh_tokens(user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many were added."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    added = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    if added:
        log.info("Revoked %d refresh tokens of user %s", len(added), user.pk)
    return len(added)
