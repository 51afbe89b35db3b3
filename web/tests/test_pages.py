from __future__ import annotations

from django.urls import reverse

from testkit import PASSWORD, BaseTestCase

DISCLAIMER = (
    "Predictions are for informational purposes only; not financial advice; "
    "past performance does not guarantee future results"
)


class PublicPagesTests(BaseTestCase):
    def test_it_renders_the_landing_page_with_the_disclaimer(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, DISCLAIMER)
        self.assertContains(response, 'href="/accounts/signup"')
        self.assertContains(response, 'href="/accounts/login"')

    def test_it_puts_the_disclaimer_on_every_page(self):
        for url in ("/about", "/accuracy", "/accounts/login", "/accounts/signup", "/search"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, DISCLAIMER)

    def test_it_requires_login_for_private_pages(self):
        for url in ("/dashboard", "/settings", "/accounts/profile", "/dashboard/overview"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/accounts/login?next="))

    def test_it_shows_private_pages_after_login(self):
        self.client.login(username="alice", password=PASSWORD)
        for url in ("/dashboard", "/settings", "/accounts/profile", "/accounts/password_change"):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_it_answers_an_unknown_page_with_404(self):
        response = self.client.get("/no-such-page")
        self.assertEqual(response.status_code, 404)


class AccountFlowTests(BaseTestCase):
    def test_it_signs_up_and_logs_the_user_in(self):
        response = self.client.post(
            reverse("signup"),
            {
                "username": "dana",
                "email": "dana@example.org",
                "password1": "a-long-unusual-passphrase-42",
                "password2": "a-long-unusual-passphrase-42",
                "consent": "on",
            },
        )
        self.assertRedirects(response, reverse("dashboard"))
        dashboard = self.client.get(reverse("dashboard"))
        self.assertEqual(dashboard.status_code, 200)
        self.assertEqual(dashboard.context["user"].username, "dana")
        self.assertEqual(dashboard.context["user"].tier, "free")

    def test_it_rejects_a_signup_with_mismatched_passwords(self):
        response = self.client.post(
            reverse("signup"),
            {
                "username": "erin",
                "email": "e@example.org",
                "password1": "x1y2z3w4v5u6",
                "password2": "nope",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "password fields didn")
        self.assertFalse(self.client.session.get("_auth_user_id"))

    def test_it_logs_in_and_out(self):
        response = self.client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
        self.assertRedirects(response, reverse("dashboard"))
        response = self.client.post(reverse("logout"))
        self.assertRedirects(response, reverse("home"))
        self.assertEqual(self.client.get(reverse("dashboard")).status_code, 302)

    def test_it_changes_the_password(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "another-long-passphrase-77",
                "new_password2": "another-long-passphrase-77",
            },
        )
        self.assertRedirects(response, reverse("password_change_done"))
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password("another-long-passphrase-77"))

    def test_it_saves_settings(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post(
            reverse("settings"),
            {"first_name": "Bob", "last_name": "Builder", "email": "bob@new.example.org"},
        )
        self.assertRedirects(response, reverse("settings"))
        self.bob.refresh_from_db()
        self.assertEqual(self.bob.email, "bob@new.example.org")
        self.assertEqual(self.alice.email, "alice@example.org")
