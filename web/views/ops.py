"""``/ops``: the System health board (and model performance) for staff, from live data.
Anonymous visitors are sent to the login page; signed-in non-staff users get 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from web.ops_board import system_health


@never_cache
@login_required
def ops(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("Operators only")
    return render(request, "web/ops.html", system_health())
