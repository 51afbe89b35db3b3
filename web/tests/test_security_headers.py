"""Security headers on the website, the admin, the API (Django and the ASGI fast path) and the
interactive docs: CSP, X-Content-Type-Options, Referrer-Policy, and HSTS only in production on
secure requests."""

from __future__ import annotations

from django.test import override_settings

from core.security_headers import CONTENT_SECURITY_POLICY
from predictions.tests.api_support import access_token, asgi_get, make_symbol, put_cached
from testkit import BaseTransactionTestCase

PRODUCTION_HSTS = {
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}
HSTS = "max-age=31536000; includeSubDomains; preload"


class SecurityHeadersTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        make_symbol("NVDA")
        put_cached(self.redis, "NVDA")
        self.client.force_login(self.alice)

    def assert_protected(self, headers, where: str) -> None:
        with self.subTest(where):
            self.assertEqual(headers["content-security-policy"], CONTENT_SECURITY_POLICY)
            self.assertIn("frame-ancestors 'none'", headers["content-security-policy"])
            policy = dict(
                part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
            )
            self.assertEqual(policy["script-src"], "'self'")  # no inline or foreign scripts
            self.assertEqual(headers["x-content-type-options"], "nosniff")
            self.assertEqual(headers["referrer-policy"], "same-origin")
            self.assertNotIn("strict-transport-security", headers)  # not production

    def test_it_sets_them_on_pages_admin_api_docs_and_static_files(self) -> None:
        for path in [
            "/",
            "/dashboard",
            "/accounts/login",
            "/admin/login/",
            "/api/symbols",
            "/api/docs",
            "/api/schema",
            "/api/no/such/path",
            "/static/css/site.css",
        ]:
            r = self.client.get(path)
            self.assertLess(r.status_code, 500, path)
            self.assert_protected({k.lower(): v for k, v in r.headers.items()}, path)

    def test_it_sets_them_on_the_fast_path(self) -> None:
        r = asgi_get("/api/prediction/NVDA", token=access_token(self.alice))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers.get("x-prediction-source"), "redis")  # the fast path answered
        self.assert_protected(r.headers, "fast path")

    def test_it_serves_the_docs_without_inline_scripts(self) -> None:
        page = self.client.get("/api/docs").content.decode()
        self.assertNotRegex(page, r"<script(?![^>]*\bsrc=)[^>]*>\s*\S")

    @override_settings(**PRODUCTION_HSTS)
    def test_it_adds_hsts_to_secure_requests_in_production(self) -> None:
        r = self.client.get("/accounts/login", HTTP_X_FORWARDED_PROTO="https")
        self.assertEqual(r.headers["Strict-Transport-Security"], HSTS)
        plain = self.client.get("/accounts/login")
        self.assertNotIn("Strict-Transport-Security", plain.headers)
        fast = asgi_get(
            "/api/prediction/NVDA",
            token=access_token(self.alice),
            headers=[(b"x-forwarded-proto", b"https")],
        )
        self.assertEqual(fast.headers["strict-transport-security"], HSTS)
        fast_plain = asgi_get("/api/prediction/NVDA", token=access_token(self.alice))
        self.assertNotIn("strict-transport-security", fast_plain.headers)
