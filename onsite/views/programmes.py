"""Programme administration: the list of programmes, a programme with its enrolments by stage, an
enrolment with its stage assessments and history; setting up a programme; screening customers
(criteria and weights in a GET form, the ranked result with each score and its reasons) and
enrolling the chosen pilot group, or more customers into a running programme, each with its four
factor scores and the stage they suggest (another stage needs a reason).

Coordinators set up and enrol; leadership reads (its POSTs are refused by the services: 403); a
team leader reads the enrolments of the customers they may read; anyone else finds nothing (404).
A refusal with field errors shows at its fields, everything typed kept."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from onsite.exceptions import InvalidInput
from onsite.models import Cadence, Enrolment, Industry, Stage, Tier
from onsite.selectors.programmes import (
    FACTOR_FIELDS,
    check_may_read_programmes,
    check_may_run_programmes,
    check_may_screen,
    chosen_customers,
    enrolment_detail,
    may_run_programmes,
    may_screen,
    open_programme,
    open_programmes,
    programme_detail,
    programme_list,
    programme_regions,
    programme_versions,
    screened_customers,
    screening,
    stage_suggestion,
)
from onsite.selectors.screening import (
    DEFAULT_INDUSTRY_SCORES,
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    SUBMITTED,
    ScreeningCriteria,
    criteria_from,
)
from onsite.services.programmes import Candidate, create_programme, end_enrolment_early, enrol_customers
from onsite.views.refusals import ACCESS, form_errors
from workflows.refusals import Refusal

PAGE_SIZE = 25
SCREENING_PAGE_SIZE = 50
FACTOR_SCORES = range(1, 6)
PREVIEW = "preview"  # the enrol form's "Suggest stages" button
DIMENSION_LABELS = {
    "industry": gettext_lazy("Industry"),
    "value": gettext_lazy("Value contribution"),
    "potential": gettext_lazy("Development potential"),
}


@login_required
@require_safe
def programme_list_page(request: HttpRequest) -> HttpResponse:
    check_may_read_programmes(request.user)
    page = Paginator(programme_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "onsite/programmes/list.html",
        {
            "page": page,
            "stages": Stage.choices,
            "may_run": may_run_programmes(request.user),
            "show_screening": may_screen(request.user),
        },
    )


@login_required
@require_safe
def programme_page(request: HttpRequest, pk: int) -> HttpResponse:
    stage = request.GET.get("stage", "")
    detail = programme_detail(programme_id=pk, user=request.user, stage=stage)
    page = Paginator(detail.pop("enrolments"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "onsite/programmes/detail.html", {**detail, "page": page, "stage": stage})


@login_required
@require_safe
def enrolment_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _enrolment(request, pk)


@login_required
@require_POST
def enrolment_end(request: HttpRequest, pk: int) -> HttpResponse:
    """The coordinator ends a customer's programme early, with a reason (`end_enrolment_early`)."""
    detail = enrolment_detail(enrolment_id=pk, user=request.user)
    reason = request.POST.get("reason", "").strip()
    try:
        end_enrolment_early(enrolment=detail["enrolment"], reason=reason, user=request.user)
    except InvalidInput as refusal:  # any other refusal is a message on the page (`refusals`)
        return _enrolment(request, pk, errors=form_errors(refusal), reason=reason)
    messages.success(
        request,
        _("The programme of %(customer)s has ended.") % {"customer": detail["enrolment"].customer.name},
    )
    return redirect("enrolment", pk=pk)


def _enrolment(request: HttpRequest, pk: int, **form: object) -> HttpResponse:
    detail = enrolment_detail(enrolment_id=pk, user=request.user)
    may_end = may_run_programmes(request.user) and detail["enrolment"].status == Enrolment.Status.ACTIVE
    return render(request, "onsite/programmes/enrolment.html", {**detail, "may_end": may_end, **form})


PROGRAMME_FIELDS = (
    "name",
    "region",
    "start_date",
    "end_date",
    "cadence",
    "visits_per_review",
    "process_version",
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def programme_new(request: HttpRequest) -> HttpResponse:
    """Set up a programme: its name, region, dates, visit cadence, stage-review rhythm and the
    version of the programme process its enrolments start (the latest by default)."""
    versions = list(programme_versions())
    regions = list(programme_regions())
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        typed = {name: request.POST.get(name, "").strip() for name in PROGRAMME_FIELDS}
        try:
            programme = create_programme(
                name=typed["name"],
                region=next((r for r in regions if str(r.pk) == typed["region"]), None),
                start_date=typed["start_date"],
                end_date=typed["end_date"] or None,
                cadence=typed["cadence"],
                visits_per_review=typed["visits_per_review"] or None,
                process_version=next((v for v in versions if str(v.pk) == typed["process_version"]), None),
                user=request.user,
            )
        except ACCESS:
            raise
        except Refusal as refusal:
            errors = form_errors(refusal)
        else:
            messages.success(request, _("Programme “%(name)s” set up.") % {"name": programme.name})
            return redirect("programme", pk=programme.pk)
    else:
        check_may_run_programmes(request.user)
        typed = {
            "start_date": timezone.localdate().isoformat(),
            "cadence": Cadence.BY_TIER,
            "process_version": str(versions[0].pk) if versions else "",
            "region": request.GET.get("region", ""),
        }
    return render(
        request,
        "onsite/programmes/new.html",
        {
            "typed": typed,
            "errors": errors,
            "general_errors": [
                text for field, texts in errors.items() if field not in PROGRAMME_FIELDS for text in texts
            ],
            "regions": regions,
            "versions": versions,
            "cadences": Cadence.choices,
        },
    )


# --- screening and enrolling ---------------------------------------------------------------------


@login_required
@require_safe
def screening_page(request: HttpRequest) -> HttpResponse:
    """The criteria (a GET form, so a screening can be bookmarked and shared) and the ranked result;
    for a coordinator each row can be ticked into the pilot group, enrolled on the next page."""
    check_may_screen(request.user)
    errors: dict[str, list[str]] = {}
    rows: list = []
    try:
        rows = screening(criteria_from(request.GET), user=request.user)
    except InvalidInput as refusal:
        errors = form_errors(refusal)
    page = Paginator(rows, SCREENING_PAGE_SIZE).get_page(request.GET.get("page"))
    criteria_query = request.GET.copy()
    criteria_query.pop("page", None)
    criteria_query.pop("programme", None)
    return render(
        request,
        "onsite/programmes/screening.html",
        {
            "form": _criteria_form(request.GET),
            "errors": errors,
            "page": page,
            "count": len(rows),
            "criteria": criteria_query.urlencode(),
            "programmes": open_programmes(user=request.user),
            "programme_id": request.GET.get("programme", ""),
            "regions": list(programme_regions()),
            "industries": Industry.choices,
            "tiers": Tier.choices,
            "may_run": may_run_programmes(request.user),
            "show_screening": True,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def enrol_page(request: HttpRequest) -> HttpResponse:
    """The chosen customers, each with its four factors, the stage they suggest ("Suggest stages"
    sends them back to be shown, changing nothing), another stage with its reason; "Enrol" enrols
    them all or none."""
    data = request.POST if request.method == "POST" else request.GET
    enrolling = request.method == "POST" and data.get("action") != PREVIEW
    if not enrolling:
        check_may_run_programmes(request.user)
    ids = [int(value) for value in data.getlist("customer") if value.isdigit()]
    customers = chosen_customers(ids, user=request.user)
    programme = open_programme(programme_id=data.get("programme", ""), user=request.user)
    criteria_text = data.get("criteria", "")
    criteria = _criteria_or_default(criteria_text)
    screened = screened_customers(criteria, [c.pk for c in customers], user=request.user)
    entries = []
    for customer in customers:
        prefix = f"{customer.pk}-"
        factors = {name: _factor(data.get(prefix + name, "")) for name in FACTOR_FIELDS}
        suggestion, why = stage_suggestion(factors)
        row = screened.get(customer.pk)
        entries.append(
            {
                "customer": customer,
                "prefix": prefix,
                "factors": factors,
                "stage": data.get(prefix + "stage", ""),
                "reason": data.get(prefix + "reason", "").strip(),
                "suggestion": suggestion,
                "suggestion_label": Stage(suggestion.stage).label if suggestion else "",
                "why": why,
                "screened": row,
            }
        )
    errors: dict[str, list[str]] = {}
    if enrolling:
        candidates = [
            Candidate(
                customer=entry["customer"],
                factors=entry["factors"],
                stage=entry["stage"],
                reason=entry["reason"],
                screening_score=entry["screened"].score if entry["screened"] else None,
                screening_reason="\n".join(entry["screened"].reasons) if entry["screened"] else "",
            )
            for entry in entries
        ]
        try:
            if programme is None:
                # The one thing the page itself must know before the service can be asked.
                check_may_run_programmes(request.user)
                raise InvalidInput({"programme": [_("Choose a running programme.")]})
            enrolled = enrol_customers(programme=programme, candidates=candidates, user=request.user)
        except ACCESS:
            raise
        except Refusal as refusal:
            errors = form_errors(refusal)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d customer enrolled in %(programme)s.",
                    "%(count)d customers enrolled in %(programme)s.",
                    len(enrolled),
                )
                % {"count": len(enrolled), "programme": programme.name},
            )
            return redirect("programme", pk=programme.pk)
    for entry in entries:
        entry["errors"] = {
            name[len(entry["prefix"]) :]: texts
            for name, texts in errors.items()
            if name.startswith(entry["prefix"])
        }
        entry["fields"] = [
            {
                "name": entry["prefix"] + name,
                "label": _factor_label(name),
                "value": entry["factors"][name],
                "errors": entry["errors"].get(name, []),
            }
            for name in FACTOR_FIELDS
        ]
    general = [
        text
        for name, texts in errors.items()
        if not any(name.startswith(entry["prefix"]) for entry in entries) and name != "programme"
        for text in texts
    ]
    return render(
        request,
        "onsite/programmes/enrol.html",
        {
            "entries": entries,
            "programme": programme,
            "programme_id": data.get("programme", ""),
            "programmes": open_programmes(user=request.user),
            "criteria": criteria_text,
            "errors": errors,
            "general_errors": general,
            "scores": FACTOR_SCORES,
            "stages": Stage.choices,
            "screening_url": _screening_url(criteria_text, data.get("programme", "")),
        },
    )


@login_required
@require_safe
def stage_suggestion_part(request: HttpRequest) -> HttpResponse:
    """The enrol page's suggestion for one customer, asked by htmx as its factors change (the
    "Suggest stages" button does the same without JavaScript)."""
    check_may_run_programmes(request.user)
    prefix = request.GET.get("prefix", "")
    factors = {name: _factor(request.GET.get(prefix + name, "")) for name in FACTOR_FIELDS}
    suggestion, why = stage_suggestion(factors)
    return render(
        request,
        "onsite/programmes/_suggestion.html",
        {
            "suggestion": suggestion,
            "suggestion_label": Stage(suggestion.stage).label if suggestion else "",
            "why": why,
        },
    )


def _factor(typed: str) -> int | str | None:
    """A factor as typed: a whole number, nothing (None), or the text itself for the service to refuse."""
    typed = (typed or "").strip()
    if not typed:
        return None
    return int(typed) if typed.isdigit() else typed


def _factor_label(name: str) -> str:
    return str(Enrolment._meta.get_field(name).verbose_name)


def _criteria_or_default(text: str) -> ScreeningCriteria:
    try:
        return criteria_from(QueryDict(text))
    except InvalidInput:
        return ScreeningCriteria()


def _screening_url(criteria: str, programme_id: str) -> str:
    query = criteria
    if programme_id:
        query = (
            f"{query}&{urlencode({'programme': programme_id})}"
            if query
            else urlencode({"programme": programme_id})
        )
    return f"{reverse('screening')}?{query}" if query else reverse("screening")


def _criteria_form(params: QueryDict) -> dict:
    """What the criteria form shows: what was typed, else the defaults."""
    sent = SUBMITTED in params
    return {
        "dimensions": params.getlist("dimension") if sent else list(DIMENSIONS),
        "weights": [
            (
                dimension,
                DIMENSION_LABELS[dimension],
                params.get(f"weight_{dimension}") or DEFAULT_WEIGHTS[dimension],
            )
            for dimension in DIMENSIONS
        ],
        "industry_scores": [
            (value, label, params.get(f"score_{value}") or DEFAULT_INDUSTRY_SCORES[value])
            for value, label in Industry.choices
        ],
        "region": params.get("region", ""),
        "industries": params.getlist("industry"),
        "tiers": params.getlist("tier"),
        "min_score": params.get("min_score", ""),
        "limit": params.get("limit", ""),
        "always_in": bool(params.get("always_in")) if sent else True,
    }
