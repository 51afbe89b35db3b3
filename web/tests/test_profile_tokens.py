from __future__ import annotations

from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from testkit import PASSWORD, BaseTestCase


class ProfileTokenTests(BaseTestCase):
    def test_it_shows_the_tier(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.get(reverse("profile"))
        self.assertContains(response, 'data-testid="tier">Pro<')
        self.client.login(username="charlie", password=PASSWORD)
        self.assertContains(self.client.get(reverse("profile")), 'data-testid="tier">Enterprise<')

    def test_it_issues_a_token_pair_once(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(reverse("token_create"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"].split(",")[0].strip(), "no-store")
        refresh = response.context["issued"].refresh
        access = response.context["issued"].access
        self.assertContains(response, refresh)
        # The pair is a real simplejwt pair for alice.
        self.assertEqual(str(AccessToken(access)["user_id"]), str(self.alice.pk))
        self.assertEqual(str(RefreshToken(refresh)["user_id"]), str(self.alice.pk))
        # Shown once: the next visit lists the token id but not the secret.
        again = self.client.get(reverse("profile"))
        self.assertNotContains(again, refresh)
        self.assertEqual(len(again.context["tokens"]), 1)

    def test_it_revokes_only_the_users_own_tokens(self):
        self.client.login(username="alice", password=PASSWORD)
        self.client.post(reverse("token_create"))
        jti = OutstandingToken.objects.get(user=self.alice).jti
        self.client.login(username="charlie", password=PASSWORD)
        self.client.post(reverse("token_revoke", args=[jti]))
        self.assertFalse(BlacklistedToken.objects.filter(token__jti=jti).exists())
        self.client.login(username="alice", password=PASSWORD)
        self.client.post(reverse("token_revoke", args=[jti]))
        self.assertTrue(BlacklistedToken.objects.filter(token__jti=jti).exists())
        self.assertEqual(self.client.get(reverse("profile")).context["tokens"], [])

    def test_it_gives_the_page_a_websocket_token(self):
        self.assertEqual(self.client.get(reverse("ws_token")).status_code, 401)
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get(reverse("ws_token"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(str(AccessToken(response.json()["token"])["user_id"]), str(self.bob.pk))
