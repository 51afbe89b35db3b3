"""Forged, wrongly typed, expired and revoked JWTs are refused on both REST paths: DRF views and
the ASGI fast path of GET /api/prediction/{symbol}."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.tests.support import forged_tokens
from predictions.tests.api_support import asgi_get, make_symbol, put_cached
from testkit import BaseTransactionTestCase
from web import api_tokens


class JwtRefusalTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        make_symbol("NVDA")
        put_cached(self.redis, "NVDA")

    def drf_get(self, token: str) -> tuple[int, dict]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        r = client.get("/api/symbols", {"search": "NV"})
        return r.status_code, r.json()

    def test_it_refuses_each_forged_token_on_drf_and_the_fast_path(self) -> None:
        for name, token in forged_tokens(self.alice).items():
            with self.subTest(name):
                status, body = self.drf_get(token)
                self.assertEqual(status, 401)
                self.assertEqual(body["error"]["code"], "token_not_valid")
                fast = asgi_get("/api/prediction/NVDA", token=token)
                self.assertEqual(fast.status_code, 401)
                self.assertEqual(fast.json()["error"]["code"], "token_not_valid")

    def test_it_accepts_the_genuine_token_the_forgeries_were_made_from(self) -> None:
        # The refusals above must come from the forgery, not from the user or the endpoint.
        pair = api_tokens.issue_pair(self.alice)
        self.assertEqual(self.drf_get(pair.access)[0], 200)
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=pair.access).status_code, 200)

    def test_it_refuses_access_tokens_of_a_revoked_refresh_token(self) -> None:
        revoked = api_tokens.issue_pair(self.alice)
        kept = api_tokens.issue_pair(self.alice)
        self.assertEqual(self.drf_get(revoked.access)[0], 200)
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=revoked.access).status_code, 200)
        self.assertTrue(api_tokens.revoke(self.alice, revoked.jti))
        status, body = self.drf_get(revoked.access)
        self.assertEqual((status, body["error"]["code"]), (401, "token_revoked"))
        fast = asgi_get("/api/prediction/NVDA", token=revoked.access)
        self.assertEqual((fast.status_code, fast.json()["error"]["code"]), (401, "token_revoked"))
        self.assertEqual(self.drf_get(kept.access)[0], 200)
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=kept.access).status_code, 200)

    def test_it_refreshes_into_access_tokens_that_keep_their_session(self) -> None:
        pair = api_tokens.issue_pair(self.alice)
        r = APIClient().post("/api/auth/token/refresh", {"refresh": pair.refresh}, format="json")
        self.assertEqual(r.status_code, 200)
        minted = r.json()["access"]
        self.assertTrue(api_tokens.revoke(self.alice, pair.jti))
        self.assertEqual(self.drf_get(minted)[0], 401)
        r = APIClient().post("/api/auth/token/refresh", {"refresh": pair.refresh}, format="json")
        self.assertEqual(r.status_code, 401)
