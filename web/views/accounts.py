"""Sign-up (with the privacy notice), profile (tier, REST API tokens, data export and deletion),
settings, and the WebSocket token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import privacy
from web import api_tokens
from web.auth import AuthenticatedRequest
from web.forms import DeleteAccountForm, SettingsForm, SignupForm


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            privacy.record_consent(user)  # the notice shown on this page, agreed to
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Add symbols to your watchlist.")
        return redirect("dashboard")
    context = {"form": form, "notice": privacy.notice_items()}
    return render(request, "registration/signup.html", context)


def render_profile(
    request: AuthenticatedRequest,
    issued: api_tokens.IssuedPair | None = None,
    delete_form: DeleteAccountForm | None = None,
) -> HttpResponse:
    context = {
        "tokens": api_tokens.live_tokens(request.user),
        "issued": issued,
        "delete_form": delete_form or DeleteAccountForm(request),
    }
    response = render(request, "web/profile.html", context)
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the secret is shown once, never cached
    return response


@login_required
@never_cache
def profile(request: AuthenticatedRequest) -> HttpResponse:
    return render_profile(request)


@login_required
@require_POST
@never_cache
def create_token(request: AuthenticatedRequest) -> HttpResponse:
    # Rendered in the POST's response (no redirect): the only time the secret is shown.
    return render_profile(request, issued=api_tokens.issue_pair(request.user))


@login_required
@require_POST
def revoke_token(request: AuthenticatedRequest, jti: str) -> HttpResponse:
    if api_tokens.revoke(request.user, jti):
        messages.success(request, "Token revoked: it can no longer obtain access tokens.")
    else:
        messages.error(request, "No such token.")
    return redirect("profile")


@login_required
def settings_page(request: AuthenticatedRequest) -> HttpResponse:
    form = SettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("settings")
    return render(request, "web/settings.html", {"form": form})


@require_GET
@never_cache
def websocket_token(request: HttpRequest) -> JsonResponse:
    """A fresh short-lived access token for /ws/predictions (the page's script asks for one
    before reconnecting, since the token embedded in the page expires)."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"error": {"code": "not_authenticated", "message": "Log in first", "details": {}}},
            status=401,
        )
    return JsonResponse({"token": api_tokens.websocket_token(request.user)})
