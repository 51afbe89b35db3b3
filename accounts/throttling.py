"""Per-tier API rate limits. Placeholder that allows everything until the API work lands."""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle


class TierRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        return True
