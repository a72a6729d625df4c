"""My customers: the list of the customers the reader may read, and a customer's page with every
record, its change history and the pre-visit briefing (`templates/onsite/customers/_briefing.html`,
which the task page shows too)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from onsite.exceptions import InvalidInput
from onsite.models import Customer, Region, Stage, Tier
from onsite.selectors.briefing import customer_briefing, describe
from onsite.selectors.customer_records import customer_records
from onsite.selectors.customers import (
    customer_overview,
    sees_every_customer,
    suggest_tiers,
)
from onsite.selectors.customers import (
    describe as describe_reason,
)
from onsite.views.refusals import form_errors

PAGE_SIZE = 25


@login_required
@require_safe
def customer_list(request: HttpRequest) -> HttpResponse:
    tiers = tuple(value for value in request.GET.getlist("tier") if value)
    stages = tuple(value for value in request.GET.getlist("stage") if value)
    search = request.GET.get("q", "").strip()
    by_region = sees_every_customer(request.user)
    regions = list(Region.objects.order_by("code")) if by_region else []
    region = _chosen(regions, request.GET.get("region", ""))
    errors: dict[str, list[str]] = {}
    try:
        customers = customer_overview(
            user=request.user, tiers=tiers, stages=stages, search=search, region=region
        )
    except InvalidInput as refusal:
        errors = form_errors(refusal)
        customers = Customer.objects.none()
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    suggestions = suggest_tiers(page.object_list) if page.object_list else {}
    rows = [
        {
            "customer": customer,
            "suggestion": suggestions.get(customer.pk),
            "stage_label": Stage(customer.programme_stage).label if customer.programme_stage else "",
        }
        for customer in page
    ]
    return render(
        request,
        "onsite/customers/list.html",
        {
            "page": page,
            "rows": rows,
            "tiers": Tier.choices,
            "stages": Stage.choices,
            "chosen_tiers": tiers,
            "chosen_stages": stages,
            "search": search,
            "regions": regions,
            "region": region,
            "errors": errors,
        },
    )


@login_required
@require_safe
def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    records = customer_records(customer_id=pk, user=request.user)
    briefing = describe(customer_briefing(records["customer"], user=request.user))
    reasons = [describe_reason(reason) for reason in records["suggestion"].reasons]
    return render(
        request,
        "onsite/customers/detail.html",
        {**records, "briefing": briefing, "suggestion_reasons": reasons},
    )


def _chosen(regions: list[Region], value: str) -> Region | None:
    for region in regions:
        if str(region.pk) == value:
            return region
    return None
