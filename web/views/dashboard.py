"""The dashboard: search, the live watchlist, the market overview; and the watchlist forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from decisions.regime_store import current as current_regime
from predictions.latest import read_many
from web import api_tokens, watchlist
from web.auth import AuthenticatedRequest
from web.forms import WatchlistAddForm
from web.market import market_overview


def _cards(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    items = watchlist.items_for(request.user)
    predictions = read_many([item.symbol.ticker for item in items])
    return [{"item": item, "prediction": predictions.get(item.symbol.ticker)} for item in items]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _watchlist_partial(
    request: AuthenticatedRequest, form: WatchlistAddForm | None = None, **extra: object
) -> HttpResponse:
    context = {"cards": _cards(request), "add_form": form or WatchlistAddForm(), **extra}
    return render(request, "web/partials/watchlist.html", context)


@login_required
@never_cache  # embeds a personal WebSocket token
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    context = {
        "cards": _cards(request),
        "add_form": WatchlistAddForm(),
        "overview": market_overview(),
        "regime": current_regime(history_days=0),
        "ws_token": api_tokens.websocket_token(request.user),
        "stale_seconds": settings.PREDICTION_STALE_SECONDS,
    }
    return render(request, "web/dashboard.html", context)


@login_required
def overview_partial(request: HttpRequest) -> HttpResponse:
    """The market overview alone, refreshed by htmx every few seconds."""
    context = {"overview": market_overview(), "regime": current_regime(history_days=0)}
    return render(request, "web/partials/overview.html", context)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("dashboard")


@login_required
@require_POST
def watchlist_add(request: AuthenticatedRequest) -> HttpResponse:
    form = WatchlistAddForm(request.POST)
    notice = ""
    if form.is_valid():
        symbol = form.cleaned_data["symbol"]
        try:
            _, created = watchlist.add(request.user, symbol)
        except watchlist.WatchlistFull as exc:
            form.add_error("symbol", str(exc))
        else:
            notice = (
                f"{symbol.ticker} added to your watchlist."
                if created
                else f"{symbol.ticker} is already on your watchlist."
            )
    if _is_htmx(request):
        # After a successful add: a fresh, empty form.
        return _watchlist_partial(request, None if notice else form, notice=notice)
    if notice:
        messages.success(request, notice)
    else:
        for error in form.errors.get("symbol", []):
            messages.error(request, str(error))  # what the message storage keeps anyway
    return _back(request)


@login_required
@require_POST
def watchlist_remove(request: AuthenticatedRequest, item_id: int) -> HttpResponse:
    item = watchlist.remove(request.user, item_id)
    if item is None:
        raise Http404("No such watchlist item")
    notice = f"{item.symbol.ticker} removed from your watchlist."
    if _is_htmx(request):
        return _watchlist_partial(request, notice=notice)
    messages.success(request, notice)
    return _back(request)
