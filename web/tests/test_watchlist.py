from __future__ import annotations

from django.urls import reverse

from testkit import PASSWORD, BaseTestCase
from web.models import WatchlistItem
from web.tests.factories import make_symbol


class WatchlistTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.aapl = make_symbol("AAPL", "Apple Inc.")
        self.msft = make_symbol("MSFT", "Microsoft Corp.")
        self.client.login(username="alice", password=PASSWORD)

    def test_it_adds_a_symbol_with_a_plain_post(self):
        response = self.client.post(reverse("watchlist_add"), {"symbol": "aapl"})
        self.assertRedirects(response, reverse("dashboard"))
        self.assertEqual(
            list(
                WatchlistItem.objects.filter(user=self.alice).values_list(
                    "symbol__ticker", flat=True
                )
            ),
            ["AAPL"],
        )
        page = self.client.get(reverse("dashboard"))
        self.assertContains(page, 'data-symbol="AAPL"')

    def test_it_adds_a_symbol_only_once(self):
        self.client.post(reverse("watchlist_add"), {"symbol": "AAPL"})
        self.client.post(reverse("watchlist_add"), {"symbol": "AAPL"})
        self.assertEqual(WatchlistItem.objects.filter(user=self.alice).count(), 1)

    def test_it_rejects_an_unknown_symbol(self):
        response = self.client.post(reverse("watchlist_add"), {"symbol": "ZZZZ"}, follow=True)
        self.assertContains(response, "Unknown symbol ZZZZ")
        self.assertFalse(WatchlistItem.objects.exists())

    def test_it_returns_the_watchlist_fragment_to_htmx(self):
        response = self.client.post(
            reverse("watchlist_add"), {"symbol": "MSFT"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTemplateUsed(response, "web/partials/watchlist.html")
        self.assertContains(response, 'data-symbol="MSFT"')
        self.assertContains(response, "MSFT added to your watchlist.")
        self.assertNotContains(response, "<html")

    def test_it_removes_a_symbol(self):
        item = WatchlistItem.objects.create(user=self.alice, symbol=self.aapl)
        response = self.client.post(reverse("watchlist_remove", args=[item.pk]))
        self.assertRedirects(response, reverse("dashboard"))
        self.assertFalse(WatchlistItem.objects.filter(pk=item.pk).exists())

    def test_it_redirects_back_to_a_safe_next_page_only(self):
        response = self.client.post(
            reverse("watchlist_add"), {"symbol": "AAPL", "next": "/symbol/AAPL"}
        )
        self.assertRedirects(response, "/symbol/AAPL", fetch_redirect_response=False)
        response = self.client.post(
            reverse("watchlist_add"), {"symbol": "MSFT", "next": "https://evil.example/"}
        )
        self.assertRedirects(response, reverse("dashboard"))

    def test_it_needs_post(self):
        self.assertEqual(self.client.get(reverse("watchlist_add")).status_code, 405)


class WatchlistOwnershipTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.aapl = make_symbol("AAPL", "Apple Inc.")
        self.msft = make_symbol("MSFT", "Microsoft Corp.")
        self.alice_item = WatchlistItem.objects.create(user=self.alice, symbol=self.aapl)

    def test_it_does_not_show_alices_watchlist_to_charlie(self):
        self.client.login(username="charlie", password=PASSWORD)
        page = self.client.get(reverse("dashboard"))
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["cards"], [])
        self.assertNotContains(page, 'id="card-aapl"')

    def test_it_does_not_let_charlie_remove_alices_item(self):
        self.client.login(username="charlie", password=PASSWORD)
        response = self.client.post(reverse("watchlist_remove", args=[self.alice_item.pk]))
        self.assertEqual(response.status_code, 404)
        self.assertTrue(WatchlistItem.objects.filter(pk=self.alice_item.pk).exists())

    def test_it_keeps_lists_separate(self):
        self.client.login(username="charlie", password=PASSWORD)
        self.client.post(reverse("watchlist_add"), {"symbol": "MSFT"})
        self.assertEqual(
            sorted(WatchlistItem.objects.values_list("user__username", "symbol__ticker")),
            [("alice", "AAPL"), ("charlie", "MSFT")],
        )

    def test_it_refuses_anonymous_changes(self):
        response = self.client.post(reverse("watchlist_remove", args=[self.alice_item.pk]))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(WatchlistItem.objects.filter(pk=self.alice_item.pk).exists())
