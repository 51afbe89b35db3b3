"""A local stand-in for Yahoo Finance's HTTP API, for the yfinance provider tests.

There is no route to Yahoo from this machine, so the tests run yfinance unmodified against a
real HTTP server on 127.0.0.1 that speaks Yahoo's protocol:

- ``GET /v8/finance/chart/{ticker}`` answers in the v8 chart JSON format, exactly the structure
  Yahoo returns (``chart.result[0]`` with ``meta``, ``timestamp`` = the 09:30 New York open of
  each session in epoch seconds, ``indicators.quote[0]`` open/high/low/close/volume and
  ``indicators.adjclose[0]``; ``chart.error`` null). The values are REAL: they are the bars of
  the shared price files (``/work/shared/data/prices``) for the ticker, sliced to the request's
  ``period1``/``period2`` (or the last session for ``range=1d``, which yfinance uses to learn
  the exchange time zone). The shared prices are already split-adjusted, so ``adjclose`` equals
  ``close``. The meta fields (exchangeName, timezone, currentTradingPeriod, validRanges, ...)
  follow a recorded Yahoo reply for a NASDAQ stock.
- Unknown tickers get Yahoo's 404 reply (``"No data found, symbol may be delisted"``).
- ``fail_next[ticker] = n`` makes the next n chart requests for that ticker answer HTTP 429
  ``Too Many Requests`` as Yahoo does when it rate-limits.
- ``/v1/test/getcrumb`` returns a crumb; the cookie host (``fc.yahoo.com``) answers 404 with a
  cookie, like the real one.

``LocalYahooSession`` is a curl_cffi ``Session`` (the kind yfinance requires) that sends every
``*.yahoo.com`` URL to this server instead, keeping path and query: the HTTP exchange itself is
real.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd
from curl_cffi import requests as curl_requests

NY = "America/New_York"


def _open_epoch(day: pd.Timestamp) -> int:
    return int(pd.Timestamp(day.date().isoformat() + " 09:30", tz=NY).timestamp())


def chart_payload(ticker: str, bars: pd.DataFrame) -> dict:
    """Yahoo's v8 chart reply for ``bars`` (a bar frame of one ticker, ascending dates)."""
    last = bars.iloc[-1] if len(bars) else None
    day = pd.Timestamp(last["date"]) if last is not None else pd.Timestamp("2025-07-09")
    start = int(pd.Timestamp(day.date().isoformat() + " 04:00", tz=NY).timestamp())
    regular = _open_epoch(day)
    period = lambda a, b: {"timezone": "EDT", "start": a, "end": b, "gmtoffset": -14400}  # noqa: E731
    meta = {
        "currency": "USD",
        "symbol": ticker,
        "exchangeName": "NMS",
        "fullExchangeName": "NasdaqGS",
        "instrumentType": "INDEX" if ticker.startswith("^") else "EQUITY",
        "firstTradeDate": 345479400,
        "regularMarketTime": regular + 23400,
        "hasPrePostMarketData": True,
        "gmtoffset": -14400,
        "timezone": "EDT",
        "exchangeTimezoneName": NY,
        "regularMarketPrice": float(last["close"]) if last is not None else None,
        "regularMarketDayHigh": float(last["high"]) if last is not None else None,
        "regularMarketDayLow": float(last["low"]) if last is not None else None,
        "regularMarketVolume": int(last["volume"]) if last is not None else None,
        "chartPreviousClose": float(bars["close"].iloc[0]) if len(bars) else None,
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": period(start, regular),
            "regular": period(regular, regular + 23400),
            "post": period(regular + 23400, regular + 37800),
        },
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    closes = [float(x) for x in bars["close"]]
    return {
        "chart": {
            "result": [
                {
                    "meta": meta,
                    "timestamp": [_open_epoch(pd.Timestamp(d)) for d in bars["date"]],
                    "indicators": {
                        "quote": [
                            {
                                "open": [float(x) for x in bars["open"]],
                                "high": [float(x) for x in bars["high"]],
                                "low": [float(x) for x in bars["low"]],
                                "close": closes,
                                "volume": [int(x) for x in bars["volume"]],
                            }
                        ],
                        "adjclose": [{"adjclose": closes}],
                    },
                }
            ],
            "error": None,
        }
    }


NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class YahooServer:
    def __init__(self, histories: dict[str, pd.DataFrame]) -> None:
        self.histories = {
            t: f.sort_values("date").reset_index(drop=True) for t, f in histories.items()
        }
        self.fail_next: Counter[str] = Counter()
        self.chart_requests: list[tuple[str, dict[str, str], int]] = []  # ticker, params, status
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str, extra=()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path.startswith("/v8/finance/chart/"):
                    ticker = parts.path.rsplit("/", 1)[1]
                    status, payload = server.chart(ticker, params)
                    if status == 429:
                        self._send(429, b"Too Many Requests\r\n", "text/plain")
                    else:
                        self._send(status, json.dumps(payload).encode(), "application/json")
                elif parts.path == "/v1/test/getcrumb":
                    self._send(200, b"Xk3fLocalCrumb", "text/plain")
                else:  # fc.yahoo.com and consent pages
                    self._send(
                        404,
                        b"<html>Not Found</html>",
                        "text/html",
                        [("Set-Cookie", "A3=d=local; Path=/")],
                    )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def chart(self, ticker: str, params: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            if self.fail_next[ticker] > 0:
                self.fail_next[ticker] -= 1
                self.chart_requests.append((ticker, params, 429))
                return 429, {}
            bars = self.histories.get(ticker)
            if bars is None:
                self.chart_requests.append((ticker, params, 404))
                return 404, NOT_FOUND
            if "period1" in params:
                lo = pd.Timestamp(int(params["period1"]), unit="s", tz="UTC").tz_convert(NY)
                hi = pd.Timestamp(int(params["period2"]), unit="s", tz="UTC").tz_convert(NY)
                opens = pd.to_datetime(bars["date"]).dt.tz_localize(NY) + pd.Timedelta("9h30min")
                bars = bars[(opens >= lo) & (opens < hi)]
            else:  # range=1d: the latest session (yfinance's time-zone probe)
                bars = bars.iloc[-1:]
            self.chart_requests.append((ticker, params, 200))
            return 200, chart_payload(ticker, bars)

    def history_requests(self, status: int | None = None) -> list[tuple[str, dict[str, str], int]]:
        """Chart requests for a date range (not yfinance's time-zone probes)."""
        return [
            r
            for r in self.chart_requests
            if "period1" in r[1] and (status is None or r[2] == status)
        ]

    def __enter__(self) -> YahooServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LocalYahooSession(curl_requests.Session):
    """A curl_cffi session that sends ``*.yahoo.com`` requests to the local server."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.endswith("yahoo.com"):
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)
