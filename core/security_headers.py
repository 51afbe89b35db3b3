"""Security headers on every response: Content-Security-Policy and Permissions-Policy here;
X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy and HSTS (production, on
secure requests) come from Django's ``SecurityMiddleware`` settings. The prediction fast path
(``predictions.api.fast``), which answers before Django, sends the same set via
``fast_path_headers``.

The policy allows only this origin: every script, style sheet and library the pages load is
served from ``static/`` (``static/vendor`` is built from npm, never a CDN), the feed's WebSocket
is same-origin (CSP Level 3 matches ``ws:``/``wss:`` of the page's own host under 'self'), and
no page uses inline scripts or eval. Inline STYLES are allowed (the vendored chart library
and htmx set them); a style cannot run code. ``img-src data:`` is for the favicon placeholder
and Swagger UI's icons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Inline styles (never scripts): the chart library (lightweight-charts) sets style
        # attributes and htmx / Swagger UI inject <style> elements.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def hsts_value() -> str | None:
    """The Strict-Transport-Security value Django's SecurityMiddleware would send, or None."""
    seconds = settings.SECURE_HSTS_SECONDS
    if not seconds:
        return None
    value = f"max-age={seconds}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


def fast_path_headers(scheme: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers Django's middlewares would add, for an ASGI response built outside Django."""
    out = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    ]
    hsts = hsts_value()
    if hsts is not None and _is_secure(scheme, headers):
        out.append((b"strict-transport-security", hsts.encode()))
    return out


def _is_secure(scheme: str, headers: list[tuple[bytes, bytes]]) -> bool:
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy is None:
        return scheme == "https"
    name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
    sent = next((v.decode("latin-1") for k, v in headers if k == name), None)
    return sent is not None and sent.split(",")[0].strip() == proxy[1]


def _add(response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    return response


class SecurityHeadersMiddleware:
    # Both modes: a sync-only middleware would cost every ASGI request a thread hop.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return _add(self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return _add(await self.get_response(request))
