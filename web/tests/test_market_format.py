from __future__ import annotations

import math

from django.template import Context, Template
from django.test import SimpleTestCase

from web.templatetags import market_format as f


class MarketFormatTests(SimpleTestCase):
    def test_it_signs_percentages_with_two_decimals(self):
        self.assertEqual(f.signed_pct(0.0123), "+1.23%")
        self.assertEqual(f.signed_pct(-0.0045), "-0.45%")
        self.assertEqual(f.signed_pct(0.12345), "+12.35%")
        self.assertEqual(f.signed_pct(12.5), "+1,250.00%")
        self.assertEqual(f.signed_pct("0.01"), "+1.00%")

    def test_it_shows_zero_without_a_sign(self):
        self.assertEqual(f.signed_pct(0), "0.00%")
        self.assertEqual(f.signed_pct(-0.00001), "0.00%")
        self.assertEqual(f.signed_price(-0.001), "0.00")

    def test_it_prints_missing_values_as_a_dash_never_zero(self):
        for value in (None, "", "abc", math.nan, math.inf, True):
            with self.subTest(value=value):
                self.assertEqual(f.signed_pct(value), f.MISSING)
                self.assertEqual(f.price(value), f.MISSING)
                self.assertEqual(f.thousands(value), f.MISSING)
                self.assertEqual(f.number(value), f.MISSING)

    def test_it_formats_prices_with_separators(self):
        self.assertEqual(f.price(1234.5), "1,234.50")
        self.assertEqual(f.price(0.456), "0.46")
        self.assertEqual(f.price(-12.345), "-12.35")
        self.assertEqual(f.price(1234567.891), "1,234,567.89")
        self.assertEqual(f.signed_price(1.2), "+1.20")
        self.assertEqual(f.signed_price(-0.35), "-0.35")

    def test_it_groups_thousands_and_compacts_volumes(self):
        self.assertEqual(f.thousands(1234567), "1,234,567")
        self.assertEqual(f.thousands(999.6), "1,000")
        self.assertEqual(f.compact(12_345_678), "12.35M")
        self.assertEqual(f.compact(3_400_000_000), "3.40B")
        self.assertEqual(f.compact(950), "950")

    def test_it_formats_shares_and_feature_values(self):
        self.assertEqual(f.pct(0.8), "80.0%")
        self.assertEqual(f.pct(0.81234, 2), "81.23%")
        self.assertEqual(f.number(54.3219), "54.32")
        self.assertEqual(f.number(0.0123456), "0.01235")
        self.assertEqual(f.number(1234567.0), "1,234,567")
        self.assertEqual(f.number(0), "0")
        self.assertEqual(f.number(0.123456, 3), "0.123")

    def test_it_formats_ages(self):
        self.assertEqual(f.age(45.9), "45 s")
        self.assertEqual(f.age(180), "3 min")
        self.assertEqual(f.age(3600 * 2 + 300), "2 h 5 min")
        self.assertEqual(f.age(7200), "2 h")
        self.assertEqual(f.age(86400 * 3), "3 d")
        self.assertEqual(f.age(-5), "0 s")

    def test_it_gives_a_direction_class(self):
        self.assertEqual(f.direction(0.01), "up")
        self.assertEqual(f.direction(-0.01), "down")
        self.assertEqual(f.direction(0.00001), "flat")
        self.assertEqual(f.direction(None), "flat")

    def test_it_works_in_templates(self):
        out = Template(
            "{% load market_format %}{{ r|signed_pct }} {{ p|price }} {{ c|pct:0 }}"
        ).render(Context({"r": -0.0123, "p": 1500, "c": 0.8}))
        self.assertEqual(out, "-1.23% 1,500.00 80%")
