from __future__ import annotations

from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from testkit import PASSWORD, BaseTestCase


class TokenTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client = APIClient()

    def obtain(self, username: str = "alice", password: str = PASSWORD):
        return self.client.post(
            "/api/auth/token", {"username": username, "password": password}, format="json"
        )

    def test_it_issues_an_access_and_refresh_pair(self) -> None:
        r = self.obtain()
        self.assertEqual(r.status_code, 200)
        access = AccessToken(r.json()["access"])
        refresh = RefreshToken(r.json()["refresh"])
        self.assertEqual(int(access["user_id"]), self.alice.pk)
        # iat and exp are stamped at two instants, which may fall either side of a second.
        self.assertAlmostEqual(access["exp"] - access["iat"], 3600, delta=1)
        self.assertAlmostEqual(refresh["exp"] - refresh["iat"], 30 * 24 * 3600, delta=1)

    def test_it_refuses_a_wrong_password_in_the_error_shape(self) -> None:
        r = self.obtain(password="wrong")
        self.assertEqual(r.status_code, 401)
        body = r.json()
        self.assertEqual(set(body), {"error"})
        self.assertEqual(set(body["error"]), {"code", "message", "details"})

    def test_it_refreshes_an_access_token(self) -> None:
        refresh = self.obtain().json()["refresh"]
        r = self.client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(int(AccessToken(r.json()["access"])["user_id"]), self.alice.pk)

    def test_it_refuses_a_garbage_refresh_token(self) -> None:
        r = self.client.post("/api/auth/token/refresh", {"refresh": "x.y.z"}, format="json")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "token_not_valid")

    def test_it_revokes_refresh_tokens_on_password_change(self) -> None:
        refresh = self.obtain().json()["refresh"]
        self.alice.set_password("a-brand-new-password-42")
        self.alice.save()
        r = self.client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
        self.assertEqual(r.status_code, 401)
        # The old pair is dead; the new password gives a working pair.
        r = self.obtain(password="a-brand-new-password-42")
        self.assertEqual(r.status_code, 200)
        r = self.client.post(
            "/api/auth/token/refresh", {"refresh": r.json()["refresh"]}, format="json"
        )
        self.assertEqual(r.status_code, 200)

    def test_it_refuses_refresh_for_a_deactivated_user(self) -> None:
        refresh = self.obtain().json()["refresh"]
        self.alice.is_active = False
        self.alice.save()
        r = self.client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
        self.assertEqual(r.status_code, 401)

    def test_it_answers_unknown_api_paths_in_the_error_shape(self) -> None:
        r = self.client.get("/api/no/such/thing")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"]["code"], "not_found")

    def test_it_never_shows_debug_pages_under_api(self) -> None:
        with override_settings(DEBUG=True):
            r = self.client.get("/api/no/such/thing")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r["Content-Type"], "application/json")
        self.assertNotIn(b"<html", r.content.lower())
        self.assertEqual(r.json()["error"]["details"], {"path": "/api/no/such/thing"})

    def test_it_answers_a_wrong_method_in_the_error_shape(self) -> None:
        r = self.client.get("/api/auth/token")
        self.assertEqual(r.status_code, 405)
        self.assertEqual(r.json()["error"]["code"], "method_not_allowed")


class CredentialGrammarTestCase(BaseTestCase):
    """Blank credentials are what the schema says: refused (minLength 1); spaces are not
    trimmed into blanks (they are simply wrong credentials)."""

    def test_it_refuses_empty_credentials_with_400_and_wrong_spaced_ones_with_401(self) -> None:
        client = APIClient()
        r = client.post("/api/auth/token", {"username": "", "password": ""}, format="json")
        self.assertEqual(r.status_code, 400)
        r = client.post("/api/auth/token", {"username": " ", "password": " "}, format="json")
        self.assertEqual(r.status_code, 401)
        r = client.post("/api/auth/token/refresh", {"refresh": ""}, format="json")
        self.assertEqual(r.status_code, 400)
        r = client.post("/api/auth/token/refresh", {"refresh": "  "}, format="json")
        self.assertEqual(r.status_code, 401)
