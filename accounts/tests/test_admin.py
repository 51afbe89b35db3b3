from __future__ import annotations

from accounts.models import Tier, User
from testkit import BaseTestCase


class AdminTierTestCase(BaseTestCase):
    def test_it_lets_an_operator_change_a_users_tier(self) -> None:
        operator = User.objects.create_superuser("op", "op@example.org", "operator-password-1")
        self.client.force_login(operator)
        url = f"/admin/accounts/user/{self.bob.pk}/change/"
        page = self.client.get(url)
        self.assertContains(page, 'name="tier"')
        form = {
            "username": "bob",
            "email": "bob@example.org",
            "tier": Tier.ENTERPRISE,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        r = self.client.post(url, form)
        self.assertEqual(
            r.status_code, 302, getattr(r, "context", None) and r.context.get("errors")
        )
        self.bob.refresh_from_db()
        self.assertEqual(self.bob.tier, Tier.ENTERPRISE)
