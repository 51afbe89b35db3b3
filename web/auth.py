"""Typing for views behind ``@login_required``: their request's user is a signed-in ``User``."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """An ``HttpRequest`` that ``login_required`` let through (never an ``AnonymousUser``)."""

    user: User
