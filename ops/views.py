from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ops.health import platform_state


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database and Redis answer (workers are reported, not required: the API keeps
    serving the last predictions without them); 503 otherwise."""
    state = platform_state()
    return JsonResponse(state, status=200 if state["ok"] else 503)
