"""A user's data is theirs: the export of everything the platform keeps about them, the erasure
of their account, and the notice they agree to at sign-up (architecture §11.3).

Each app that stores personal data declares it here as a ``Holder`` (registered from its
``AppConfig.ready``; apps sit above accounts, so accounts never imports them): the section of the
export, what is stored and why (the sign-up notice is built from these, so it cannot forget one),
the serializer that renders the section, and how to erase it. The REST API
(``accounts.privacy_views``), the profile page (``web.views.privacy``) and the admin
(``accounts.admin``) all call ``export`` and ``erase`` below.

Erasure runs in one transaction: every holder removes or unlinks its rows, the user row goes, a
``PrivacyEvent`` (no personal data) is recorded; once committed, every WebSocket connection of
the user re-checks its token and closes (``accounts.sessions``), and Redis counters are dropped.
Records that are not personal (predictions, model versions, the prediction history, explanation
texts) stay, with the user's link removed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

from accounts import login_throttle
from accounts.models import (
    Consent,
    PrivacyEvent,
    PrivacyEventKind,
    PrivacyEventVia,
    User,
)
from accounts.sessions import notify
from accounts.throttling import client_ip
from core.timefmt import iso_z

EXPORT_FORMAT = "stockpred-personal-data/1"


@dataclass(frozen=True)
class Holder:
    """One kind of personal data one app keeps."""

    section: str  # key of the export document
    data: str  # what is stored (sign-up notice)
    purpose: str  # why it is stored (sign-up notice)
    serializer: type[serializers.BaseSerializer[Any]]  # renders the section (and its schema)
    rows: Callable[[User], Any]  # what the serializer renders: a queryset, a list or one object
    erase: Callable[[User], int]  # removes or unlinks it (inside the erasure); rows touched
    many: bool = True


_HOLDERS: dict[str, Holder] = {}


def register(holder: Holder) -> None:
    _HOLDERS[holder.section] = holder


def holders() -> list[Holder]:
    """In registration order: accounts first, then the apps in INSTALLED_APPS order."""
    return list(_HOLDERS.values())


# --- the notice --------------------------------------------------------------------------------


def notice_items() -> list[dict[str, str]]:
    return [{"data": h.data, "purpose": h.purpose} for h in holders()]


def notice_version() -> str:
    """Changes whenever an item of the notice changes (its digest), so a consent always names
    the exact text it was given to."""
    text = json.dumps(notice_items(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def record_consent(user: User) -> Consent:
    """The user agreed to the notice on the sign-up form."""
    return Consent.objects.create(
        user=user, notice_version=notice_version(), statement=notice_items()
    )


# --- events ------------------------------------------------------------------------------------


def _record(kind: str, via: str, details: dict[str, int]) -> PrivacyEvent:
    return PrivacyEvent.objects.create(
        kind=kind, via=via, reference=secrets.token_hex(8), details=details
    )


# --- export ------------------------------------------------------------------------------------


def _render(holder: Holder, user: User) -> Any:
    return holder.serializer(holder.rows(user), many=holder.many).data


def _size(value: Any) -> int:
    return len(value) if isinstance(value, list) else 1


def export(user: User, via: PrivacyEventVia) -> dict[str, Any]:
    """Everything the platform keeps about ``user``, as one JSON-ready document."""
    sections = {h.section: _render(h, user) for h in holders()}
    event = _record(
        PrivacyEventKind.EXPORT, via, {name: _size(value) for name, value in sections.items()}
    )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": iso_z(event.occurred_at),
        "reference": event.reference,
        "notice": {"version": notice_version(), "items": notice_items()},
        **sections,
    }


def download(document: dict[str, Any]) -> HttpResponse:
    """The export as a file to save, never cached (the profile page's and the admin's)."""
    response = HttpResponse(json.dumps(document, indent=2), content_type="application/json")
    day = document["generated_at"][:10]
    response["Content-Disposition"] = f'attachment; filename="stockpred-data-{day}.json"'
    response["Cache-Control"] = "no-store"
    return response


# --- erasure -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    reference: str
    erased_at: datetime
    removed: dict[str, int]


class AccountGone(Exception):
    """The account was erased meanwhile (e.g. a second, concurrent deletion request)."""


def erase(user: User, via: PrivacyEventVia) -> Receipt:
    """Delete the account and its personal data; revoke its tokens; close its WebSockets."""
    user_id = user.pk
    with transaction.atomic():
        # Locked: a concurrent erasure of the same account waits here, then finds nothing.
        locked = User.objects.select_for_update().filter(pk=user_id).first()
        if locked is None:
            raise AccountGone(f"Account {user_id} no longer exists")
        removed = {h.section: h.erase(locked) for h in holders()}
        locked.delete()
        event = _record(PrivacyEventKind.ERASURE, via, removed)
        # The state cache is dropped now and again after the commit; the user's group then
        # re-checks each open connection, which finds no user and closes with 4401.
        notify(user_id)
    return Receipt(event.reference, event.occurred_at, removed)


# --- confirming the password -------------------------------------------------------------------


class PasswordRefused(Exception):
    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def confirm_password(request: HttpRequest, user: User, password: str) -> None:
    """Raise ``PasswordRefused`` unless ``password`` is the user's. A wrong one counts as a
    failed sign-in (``accounts.login_throttle``): a stolen session or token cannot be used to
    guess the password here either."""
    username = user.get_username()
    wait = login_throttle.retry_after(username, client_ip(request))  # type: ignore[arg-type]
    if wait is not None:
        raise PasswordRefused("Too many failed attempts; try again later.", retry_after=wait)
    checked = authenticate(request, username=username, password=password)
    if checked is None or checked.pk != user.pk:
        raise PasswordRefused("The password is not correct.")
    login_throttle.clear_user(username)
