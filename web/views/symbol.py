"""The symbol page: chart, prediction card, explanation panel, features, earnings, accuracy."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from ingestion.models import Symbol
from predictions.latest import read_one
from web import api_tokens, symbol_data, watchlist
from web.feature_table import feature_rows


@never_cache  # live figures, and a personal WebSocket token for logged-in users
def symbol_page(request: HttpRequest, ticker: str) -> HttpResponse:
    canonical = ticker.upper()
    if ticker != canonical:
        return redirect("symbol", ticker=canonical)
    symbol = Symbol.objects.filter(ticker=canonical).first()
    if symbol is None:
        return render(request, "web/symbol_not_found.html", {"ticker": canonical}, status=404)
    prediction = read_one(symbol.ticker)
    earnings = symbol_data.earnings_context(symbol, prediction)
    values, features_source = symbol_data.feature_values(symbol)
    history = symbol_data.accuracy_history(symbol)
    context = {
        "symbol": symbol,
        "prediction": prediction,
        "bars": symbol_data.price_bars(symbol),
        "band": symbol_data.forecast_band(prediction),
        "horizon_bands": symbol_data.horizon_bands(prediction),
        "features": feature_rows(values, earnings=earnings is not None),
        "features_source": features_source,
        "earnings": earnings,
        "history": history,
        "watch_item": watchlist.has(request.user, symbol),
        "stale_seconds": settings.PREDICTION_STALE_SECONDS,
        "ws_token": (
            api_tokens.websocket_token(request.user) if request.user.is_authenticated else ""
        ),
    }
    return render(request, "web/symbol.html", context)
