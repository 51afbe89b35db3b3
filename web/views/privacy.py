"""The profile page's data export and account deletion (``accounts.privacy``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import privacy
from accounts.models import PrivacyEventVia
from web.auth import AuthenticatedRequest
from web.forms import DeleteAccountForm
from web.views.accounts import render_profile


@login_required
@require_GET
@never_cache
def export_data(request: AuthenticatedRequest) -> HttpResponse:
    return privacy.download(privacy.export(request.user, PrivacyEventVia.WEBSITE))


@login_required
@require_POST
@never_cache
def delete_account(request: AuthenticatedRequest) -> HttpResponse:
    form = DeleteAccountForm(request, request.POST)
    if not form.is_valid():
        response = render_profile(request, delete_form=form)
        response.status_code = 429 if form.retry_after is not None else 400
        if form.retry_after is not None:
            response["Retry-After"] = str(form.retry_after)
        return response
    try:
        receipt = privacy.erase(request.user, PrivacyEventVia.WEBSITE)
        text = (
            "Your account and its personal data have been deleted. "
            f"Reference of the deletion: {receipt.reference}."
        )
    except privacy.AccountGone:  # a second click, handled after the first one's erasure
        text = "Your account and its personal data have been deleted."
    logout(request)
    messages.success(request, text)
    return redirect("home")
