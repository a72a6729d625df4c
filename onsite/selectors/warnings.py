"""Real-time early warnings (实时预警, seed 004): what has slipped, or is about to, across the
customers a person looks after - a customer left unvisited, a summary not written, an urgent lead
left alone, a competitor's contract about to expire.

Read by the team leader's and manager's pages and, as `SYSTEM`, by the background job that sends
the notifications; each reads the customers `onsite.access` lets them read. A warning is data (its
kind and the values its sentence needs); `describe` words it in the reader's language. Five queries
at most, whatever the number of warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.db.models import Case, Exists, F, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from onsite.access import NOTHING, READ, customer_scope, has_role
from onsite.models import Cadence, Customer, Enrolment, Lead, ProductHolding, ServiceStandard, Urgency, Visit
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, TEAM_LEADER
from onsite.services.winback import expiring_competitor_products
from onsite.thresholds import threshold

# The longest a cadence lets a customer go between visits, before the grace days.
CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.BIWEEKLY: 14, Cadence.MONTHLY: 31}


class WarningKind(models.TextChoices):
    NO_RECENT_VISIT = "no_recent_visit", gettext_lazy("customer not visited")
    SUMMARY_OVERDUE = "summary_overdue", gettext_lazy("visit summary overdue")
    LEAD_UNTOUCHED = "lead_untouched", gettext_lazy("urgent lead not followed up")
    CONTRACT_EXPIRING = "contract_expiring", gettext_lazy("competitor contract expiring")


@dataclass(frozen=True)
class EarlyWarning:
    """What slipped, as data: `kind` and the `params` its sentence needs (see `describe`)."""

    kind: str
    customer: Customer
    params: dict[str, Any]
    # When it fell due (the overdue kinds, a datetime) or falls due (a contract's expiry date).
    due: datetime | date
    related: Enrolment | Visit | Lead | ProductHolding
    # Whose move it is (a role): a customer whose visit waits for the team leader's review of its
    # summary is the leader's to unblock, not the account manager's.
    responsible: str = ACCOUNT_MANAGER


def early_warnings(*, user: Any, now: datetime | None = None) -> list[EarlyWarning]:
    """The warnings on the customers `user` looks after (all of them for the system), the
    longest overdue first and the contracts expiring soonest after them."""
    now = now or timezone.now()
    scope = customer_scope(user, to=READ, through="customer")
    if scope is NOTHING:
        return []
    warnings = [
        *_no_recent_visit(
            # What waits for the team leader is not the account manager's to act on.
            scope,
            now,
            leaders_share=has_role(user, TEAM_LEADER, COORDINATOR, LEADERSHIP),
        ),
        *_summary_overdue(scope, now),
        *_lead_untouched(scope, now),
        *_contract_expiring(scope, now),
    ]
    order = list(WarningKind.values)
    warnings.sort(key=lambda w: (_moment(w.due), order.index(w.kind), w.customer.name, w.related.pk))
    return warnings


def _scoped(queryset: models.QuerySet, scope: Q | None) -> models.QuerySet:
    return queryset if scope is None else queryset.filter(scope)


def _no_recent_visit(scope: Q | None, now: datetime, *, leaders_share: bool = True) -> list[EarlyWarning]:
    grace = threshold("VISIT_GRACE_DAYS")
    # Counted from the last visit made to the customer, or from enrolment when there is none since:
    # a customer re-enrolled after an old programme is not overdue on its first day.
    # A programme that follows the tiers visits at the cadence the customer's tier's standard sets now.
    tier_cadence = (
        ServiceStandard.objects.filter(tier=OuterRef("customer__tier"), effective_from__lte=now)
        .order_by("-effective_from", "-id")
        .values("visit_cadence")[:1]
    )
    enrolments = (
        _scoped(Enrolment.objects.filter(status=Enrolment.Status.ACTIVE), scope)
        .annotate(
            last_seen=Greatest(Coalesce(Max("customer__visits__visited_at"), "enrolled_at"), "enrolled_at"),
            cadence=Case(
                When(programme__cadence=Cadence.BY_TIER, then=Subquery(tier_cadence)),
                default=F("programme__cadence"),
            ),
        )
        .filter(
            _any(
                # Nor before the programme itself has run that long.
                Q(
                    cadence=cadence,
                    last_seen__lt=now - timedelta(days=days + grace),
                    programme__start_date__lt=timezone.localtime(now).date() - timedelta(days=days + grace),
                )
                for cadence, days in CADENCE_DAYS.items()
            )
        )
        .annotate(
            # The visit made, its summary submitted: the next one is scheduled once the leader approves.
            awaits_leader=Exists(
                Visit.objects.filter(enrolment=OuterRef("pk"), status=Visit.Status.SUMMARISED)
            )
        )
        .select_related("customer", "programme")
    )
    if not leaders_share:
        enrolments = enrolments.filter(awaits_leader=False)
    warnings = []
    for enrolment in enrolments:
        days = (now - enrolment.last_seen).days
        warnings.append(
            EarlyWarning(
                kind=WarningKind.NO_RECENT_VISIT,
                customer=enrolment.customer,
                params={"days": days, "cadence": enrolment.cadence},
                due=enrolment.last_seen + timedelta(days=CADENCE_DAYS[enrolment.cadence] + grace),
                related=enrolment,
                responsible=TEAM_LEADER if enrolment.awaits_leader else ACCOUNT_MANAGER,
            )
        )
    return warnings


def _summary_overdue(scope: Q | None, now: datetime) -> list[EarlyWarning]:
    visits = Visit.objects.filter(status=Visit.Status.VISITED, summary_due_at__lt=now).select_related(
        "customer"
    )
    warnings = []
    for visit in _scoped(visits, scope):
        # Any part of a day late counts as a day, so a summary an hour late is "1 day overdue".
        days = math.ceil((now - visit.summary_due_at) / timedelta(days=1))
        visited_on = timezone.localdate(visit.visited_at) if visit.visited_at else visit.planned_date
        warnings.append(
            EarlyWarning(
                kind=WarningKind.SUMMARY_OVERDUE,
                customer=visit.customer,
                params={"date": visited_on, "days": days},
                due=visit.summary_due_at,
                related=visit,
            )
        )
    return warnings


def _lead_untouched(scope: Q | None, now: datetime) -> list[EarlyWarning]:
    untouched = timedelta(days=threshold("LEAD_UNTOUCHED_DAYS"))
    leads = Lead.objects.filter(
        urgency=Urgency.HIGH, status__in=Lead.OPEN_STATUSES, last_activity_at__lt=now - untouched
    ).select_related("customer")
    warnings = []
    for lead in _scoped(leads, scope):
        days = (now - lead.last_activity_at).days
        warnings.append(
            EarlyWarning(
                kind=WarningKind.LEAD_UNTOUCHED,
                customer=lead.customer,
                params={"lead": lead.description, "days": days},
                due=lead.last_activity_at + untouched,
                related=lead,
            )
        )
    return warnings


def _contract_expiring(scope: Q | None, now: datetime) -> list[EarlyWarning]:
    today = timezone.localdate(now)
    products = expiring_competitor_products(today=today).select_related("customer")
    warnings = []
    for product in _scoped(products, scope):
        warnings.append(
            EarlyWarning(
                kind=WarningKind.CONTRACT_EXPIRING,
                customer=product.customer,
                params={
                    "product": product.product,
                    "provider": product.provider,
                    "date": product.expiry_date,
                    "days": (product.expiry_date - today).days,
                },
                due=product.expiry_date,
                related=product,
            )
        )
    return warnings


def describe(warning: EarlyWarning) -> str:
    """The warning as a sentence in the active language: for whoever shows it, at the time."""
    values = {**warning.params, "customer": warning.customer.name}
    if "date" in values:
        values["date"] = values["date"].isoformat()
    days = values.get("days", 0)
    if warning.kind == WarningKind.NO_RECENT_VISIT:
        values["cadence"] = Cadence(values["cadence"]).label
        text = ngettext(
            "No visit to %(customer)s for %(days)d day (%(cadence)s programme).",
            "No visit to %(customer)s for %(days)d days (%(cadence)s programme).",
            days,
        )
    elif warning.kind == WarningKind.SUMMARY_OVERDUE:
        text = ngettext(
            "The summary of the %(date)s visit to %(customer)s is %(days)d day overdue.",
            "The summary of the %(date)s visit to %(customer)s is %(days)d days overdue.",
            days,
        )
    elif warning.kind == WarningKind.LEAD_UNTOUCHED:
        text = ngettext(
            "The urgent lead “%(lead)s” at %(customer)s has had no follow-up for %(days)d day.",
            "The urgent lead “%(lead)s” at %(customer)s has had no follow-up for %(days)d days.",
            days,
        )
    elif days:
        text = ngettext(
            "The %(provider)s contract for %(product)s at %(customer)s ends in %(days)d day (%(date)s).",
            "The %(provider)s contract for %(product)s at %(customer)s ends in %(days)d days (%(date)s).",
            days,
        )
    else:
        text = _("The %(provider)s contract for %(product)s at %(customer)s ends today.")
    return text % values


def _any(conditions) -> Q:
    combined = NOTHING
    for condition in conditions:
        combined |= condition
    return combined


def _moment(due: datetime | date) -> datetime:
    # A contract's expiry date sorts as the start of that local day.
    return due if isinstance(due, datetime) else timezone.make_aware(datetime.combine(due, time.min))
