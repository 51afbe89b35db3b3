"""A user with data in every place the platform keeps personal data, and a scan of every table
for what is left of them (``accounts.privacy``'s tests: API, profile page, admin, browser)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import jwt
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import privacy
from accounts.models import Tier, User
from explanations.models import Explanation
from ingestion.models import Symbol
from predictions.ml import registry
from predictions.models import ModelVersion, Prediction, PredictionRecord
from predictions.tests.api_support import make_symbol, store_prediction
from web import api_tokens, watchlist
from web.tests.factories import make_record

SUBJECT = "zoe-erasable"
SUBJECT_EMAIL = "zoe.erasable@example.net"
SUBJECT_PASSWORD = "an-unusual-passphrase-for-zoe-77"


@dataclass
class Subject:
    user: User
    pair: api_tokens.IssuedPair  # a REST API token pair (profile page)
    operator: User


def make_subject(*, staff: bool = True) -> Subject:
    """Zoe (pro tier, staff so she can activate a model version) with a consent, a watchlist,
    an API token pair, an explanation request, a website session, a model-version note naming
    her and an operator's admin log entry about her account; beside them the records that are
    not personal: a prediction, its history row and the model versions."""
    user = User.objects.create_user(
        SUBJECT, SUBJECT_EMAIL, SUBJECT_PASSWORD, tier=Tier.PRO, is_staff=staff
    )
    user.first_name, user.last_name = "Zoe", "Erasable"
    user.save()
    privacy.record_consent(user)
    nvda = symbol("NVDA")
    watchlist.add(user, nvda)
    watchlist.add(user, symbol("AAPL"))
    store_prediction(nvda)
    make_record(nvda, dt.date(2024, 3, 5), 0.01, 0.02)
    Explanation.objects.create(job_id="exp_zoe1", symbol="NVDA", requested_by=user)
    pair = api_tokens.issue_pair(user)
    Client().login(username=SUBJECT, password=SUBJECT_PASSWORD)  # a session row
    registry.register("normal", "v-old", "/tmp/none", metrics={}, metadata={}, activate=True)
    registry.register("normal", "v-new", "/tmp/none", metrics={}, metadata={})
    registry.activate_version("normal", "v-new", reason=f"activated in the admin by {user}")
    operator = User.objects.create_superuser("op", "op@example.org", "operator-password-1")
    LogEntry.objects.log_actions(
        operator.pk, [user], CHANGE, change_message=[{"changed": {"fields": ["Tier"]}}]
    )
    return Subject(user, pair, operator)


def symbol(ticker: str) -> Symbol:
    return Symbol.objects.filter(ticker=ticker).first() or make_symbol(ticker)


def non_personal_counts() -> dict[str, int]:
    return {
        "predictions": Prediction.objects.count(),
        "prediction_records": PredictionRecord.objects.count(),
        "model_versions": ModelVersion.objects.count(),
        "explanations": Explanation.objects.count(),
    }


def _text_fields(model: type[models.Model]) -> list[str]:
    kinds = (models.CharField, models.TextField, models.JSONField)
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, kinds)]


def _user_links(model: type[models.Model]) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields if f.is_relation and f.related_model is User
    ]


def _table_traces(model: type[models.Model], user_id: int, needles: list[str]) -> list[str]:
    table, rows = model._meta.db_table, model._default_manager
    linked = [
        f"{table}.{column} = {user_id}"
        for column in _user_links(model)
        if rows.filter(**{column: user_id}).exists()
    ]
    named = [
        f"{table}.{column} contains {needle!r}"
        for column in _text_fields(model)
        for needle in needles
        if rows.filter(**{f"{column}__icontains": needle}).exists()
    ]
    return linked + named


def personal_traces(user_id: int, username: str, email: str) -> list[str]:
    """Every place in the database that still names the user: a link to their id in any table,
    their username or e-mail in any text or JSON column of any table, their id inside a session's
    signed data, a JWT's payload or an admin log entry about their account."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model is not Session:  # its data is a signed encoding: searched decoded below
            found += _table_traces(model, user_id, [username, email])
    for session in Session.objects.all():
        decoded = session.get_decoded()
        text = json.dumps(decoded, default=str).lower()
        if decoded.get(SESSION_KEY) == str(user_id):
            found.append(f"django_session {session.session_key[:6]}… names user {user_id}")
        # A random signed blob contains "bob" now and then; the decoded data must not.
        found += [
            f"django_session {session.session_key[:6]}… contains {needle!r}"
            for needle in (username, email)
            if needle.lower() in text
        ]
    for token in OutstandingToken.objects.exclude(token=""):
        claims = jwt.decode(token.token, options={"verify_signature": False})
        if str(claims.get("user_id")) == str(user_id):
            found.append(f"token_blacklist_outstandingtoken {token.jti} carries user {user_id}")
    user_type = ContentType.objects.get_for_model(User)
    if LogEntry.objects.filter(content_type=user_type, object_id=str(user_id)).exists():
        found.append(f"django_admin_log names object {user_id}")
    return found
