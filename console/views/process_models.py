"""The list of process models and each model's page with its versions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from console.access import abilities, check_may_view
from console.selectors.process_models import process_models
from console.selectors.versions import model_page


@require_safe
@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    check_may_view(request.user)
    return render(
        request,
        "console/process_models/list.html",
        {"models": process_models(), "can": abilities(request.user), "console_tab": "models"},
    )


@require_safe
@login_required
def model_detail(request: HttpRequest, process_id: str) -> HttpResponse:
    check_may_view(request.user)
    return render(
        request,
        "console/process_models/detail.html",
        {"page": model_page(process_id), "can": abilities(request.user), "console_tab": "models"},
    )
