"""Real-time early warnings (实时预警, seed 004): what has slipped, or is about to, across the
customers a person looks after - a customer left unvisited, a visit plan or visit not made on its
date, a summary not written or not reviewed, an urgent lead left alone, a support request past its
date, a competitor's contract about to expire, one of our own contracts up for renewal - and, on
results rather than process, a manager or a team behind the month's target pro rata to the days
elapsed, and a lead stalled in a funnel stage.

Read by the team leader's and manager's pages and, as `SYSTEM`, by the background job that sends
the notifications; each reads the customers `onsite.access` lets them read (and, for the targets,
the people and teams: see `_behind_target`). A warning is data (its
kind, the values its sentence needs, the record it is about and the person who must act);
`describe` words it in the reader's language. A fixed number of queries, whatever the number of
warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Case, Exists, F, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from onsite.access import EVERYTHING, NOTHING, READ, customer_scope, has_role, people_scope, scoped
from onsite.models import (
    AppraisedRole,
    Cadence,
    Customer,
    Enrolment,
    FunnelStage,
    Lead,
    Ownership,
    ProductHolding,
    ServiceStandard,
    StaffProfile,
    SupportRequest,
    Team,
    Urgency,
    Visit,
    VisitSummary,
)
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, SUPPORT_STAFF, TEAM_LEADER
from onsite.selectors.appraisal_indicators import AMOUNT, INDICATORS, combine, measure, value_of
from onsite.selectors.appraisals import month_bounds, targets_for
from onsite.selectors.funnel import stalled_leads
from onsite.selectors.thresholds import thresholds_in_force
from onsite.services.winback import expiring_competitor_products

# The longest a cadence lets a customer go between visits, before the grace days.
CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.BIWEEKLY: 14, Cadence.MONTHLY: 31}


class WarningKind(models.TextChoices):
    NO_RECENT_VISIT = "no_recent_visit", gettext_lazy("customer not visited")
    SUMMARY_OVERDUE = "summary_overdue", gettext_lazy("visit summary overdue")
    LEAD_UNTOUCHED = "lead_untouched", gettext_lazy("urgent lead not followed up")
    CONTRACT_EXPIRING = "contract_expiring", gettext_lazy("competitor contract expiring")
    VISIT_PLAN_OVERDUE = "visit_plan_overdue", gettext_lazy("visit plan overdue")
    REVIEW_OVERDUE = "review_overdue", gettext_lazy("summary review overdue")
    SUPPORT_OVERDUE = "support_overdue", gettext_lazy("support request overdue")
    RENEWAL_DUE = "renewal_due", gettext_lazy("our contract up for renewal")
    TARGET_BEHIND = "target_behind", gettext_lazy("behind the month's target")
    LEAD_STALLED = "lead_stalled", gettext_lazy("lead stalled in a funnel stage")


# The appraisal indicators whose month's target a manager or a team is warned to be behind.
TARGET_INDICATORS = ("leads_created", "won_value", "visits_as_planned")


@dataclass(frozen=True)
class EarlyWarning:
    """What slipped, as data: `kind` and the `params` its sentence needs (see `describe`)."""

    kind: str
    # None for a warning on a person or a team (behind the month's target).
    customer: Customer | None
    params: dict[str, Any]
    # When it fell due (the overdue kinds, a datetime), falls due (a contract's expiry date) or was
    # found (the day a target is found behind).
    due: datetime | date
    # The record to open: for a target, the team or the account manager (a user).
    related: Enrolment | Visit | Lead | ProductHolding | SupportRequest | Team | Any
    # Whose move it is (a role): a customer whose visit waits for the team leader's review of its
    # summary is the leader's to unblock, not the account manager's.
    responsible: str = ACCOUNT_MANAGER
    # The person in that role who must act (the visit's or customer's account manager, their team
    # leader, the support engineer), None when nobody holds the place (a team without a leader).
    person: Any = None


def early_warnings(*, user: Any, now: datetime | None = None) -> list[EarlyWarning]:
    """The warnings on the customers `user` looks after (all of them for the system), the
    longest overdue first and the contracts expiring soonest after them."""
    now = now or timezone.now()
    scope = customer_scope(user, to=READ, through="customer")
    if scope is NOTHING:
        return []
    # Support staff read some customers, but no one's targets.
    on_results = has_role(user, ACCOUNT_MANAGER, TEAM_LEADER, COORDINATOR, LEADERSHIP)
    # The thresholds in force today, read once for every kind.
    limits = thresholds_in_force("warnings", on=timezone.localdate(now))
    warnings = [
        *_no_recent_visit(
            # What waits for the team leader is not the account manager's to act on.
            scope,
            now,
            limits,
            leaders_share=has_role(user, TEAM_LEADER, COORDINATOR, LEADERSHIP),
        ),
        *_summary_overdue(scope, now),
        *_visit_plan_overdue(scope, now, limits),
        *_review_overdue(scope, now, limits),
        *_lead_untouched(scope, now, limits),
        *_support_overdue(scope, now),
        *_contract_expiring(scope, now, limits),
        *_renewal_due(scope, now, limits),
        *_lead_stalled(scope, now, limits),
        *(_behind_target(user, now, limits) if on_results else []),
    ]
    warnings = _name_who_acts(warnings)
    order = list(WarningKind.values)
    warnings.sort(
        key=lambda w: (
            _moment(w.due),
            order.index(w.kind),
            w.customer.name if w.customer else "",
            w.related.pk,
        )
    )
    return warnings


def _scoped(queryset: models.QuerySet, scope: Q | None) -> models.QuerySet:
    return queryset if scope is None else queryset.filter(scope)


def _no_recent_visit(
    scope: Q | None, now: datetime, limits: dict[str, int], *, leaders_share: bool = True
) -> list[EarlyWarning]:
    grace = limits["VISIT_GRACE_DAYS"]
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


def _lead_untouched(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    untouched = timedelta(days=limits["LEAD_UNTOUCHED_DAYS"])
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


def _contract_expiring(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    today = timezone.localdate(now)
    products = expiring_competitor_products(
        today=today, window_days=limits["WIN_BACK_WINDOW_DAYS"]
    ).select_related("customer")
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


def _visit_plan_overdue(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    """A visit the cadence scheduled that has no plan by its date, or a planned visit not made by its
    planned date and the tolerance "as planned" allows."""
    today = timezone.localdate(now)
    tolerance = timedelta(days=limits["VISIT_ON_PLAN_TOLERANCE_DAYS"])
    visits = Visit.objects.filter(
        Q(status=Visit.Status.SCHEDULED, planned_date__lt=today)
        | Q(status=Visit.Status.PLANNED, planned_date__lt=today - tolerance)
    ).select_related("customer")
    warnings = []
    for visit in _scoped(visits, scope):
        planned = visit.status == Visit.Status.PLANNED
        due = visit.planned_date + (tolerance if planned else timedelta())
        warnings.append(
            EarlyWarning(
                kind=WarningKind.VISIT_PLAN_OVERDUE,
                customer=visit.customer,
                params={"date": visit.planned_date, "days": (today - due).days, "planned": planned},
                due=due,
                related=visit,
            )
        )
    return warnings


def _review_overdue(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    """A summary submitted and not reviewed by the team leader within the days allowed."""
    allowed = timedelta(days=limits["REVIEW_DUE_DAYS"])
    visits = Visit.objects.filter(
        status=Visit.Status.SUMMARISED,
        summary__status=VisitSummary.Status.SUBMITTED,
        summary__submitted_at__lt=now - allowed,
    ).select_related("customer", "summary")
    warnings = []
    for visit in _scoped(visits, scope):
        due = visit.summary.submitted_at + allowed
        warnings.append(
            EarlyWarning(
                kind=WarningKind.REVIEW_OVERDUE,
                customer=visit.customer,
                params={
                    "date": timezone.localdate(visit.summary.submitted_at),
                    "days": math.ceil((now - due) / timedelta(days=1)),
                },
                due=due,
                related=visit,
                responsible=TEAM_LEADER,
            )
        )
    return warnings


def _support_overdue(scope: Q | None, now: datetime) -> list[EarlyWarning]:
    """A support request not done by the date it was needed: the engineer's if dispatched, the team
    leader's (who dispatches) if not. Work done and waiting for the manager's confirmation is not
    late."""
    today = timezone.localdate(now)
    requests = SupportRequest.objects.filter(
        status__in=[SupportRequest.Status.REQUESTED, SupportRequest.Status.DISPATCHED], due_date__lt=today
    ).select_related("customer")
    warnings = []
    for request in _scoped(requests, scope):
        dispatched = request.status == SupportRequest.Status.DISPATCHED and request.assignee_id is not None
        warnings.append(
            EarlyWarning(
                kind=WarningKind.SUPPORT_OVERDUE,
                customer=request.customer,
                params={
                    "kind": request.kind,
                    "date": request.due_date,
                    "days": (today - request.due_date).days,
                    "dispatched": dispatched,
                },
                due=request.due_date,
                related=request,
                responsible=SUPPORT_STAFF if dispatched else TEAM_LEADER,
            )
        )
    return warnings


def _renewal_due(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    """One of our own contracts ending within the renewal window: keep the customer (retention),
    before a competitor's win-back starts."""
    today = timezone.localdate(now)
    products = ProductHolding.objects.filter(
        ownership=Ownership.OURS,
        expiry_date__gte=today,
        expiry_date__lte=today + timedelta(days=limits["RENEWAL_WINDOW_DAYS"]),
    ).select_related("customer")
    return [
        EarlyWarning(
            kind=WarningKind.RENEWAL_DUE,
            customer=product.customer,
            params={
                "product": product.product,
                "date": product.expiry_date,
                "days": (product.expiry_date - today).days,
            },
            due=product.expiry_date,
            related=product,
        )
        for product in _scoped(products, scope)
    ]


def _lead_stalled(scope: Q | None, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    """One warning per open lead stalled in its funnel stage, by the funnel's rule
    (`selectors.funnel.stalled_leads`): the lead's owner must move it on or close it."""
    stalled_days = timedelta(days=limits["FUNNEL_STALLED_DAYS"])
    leads = Lead.objects.filter(
        stalled_leads(now, stalled_days=limits["FUNNEL_STALLED_DAYS"])
    ).select_related("customer", "owner")
    return [
        EarlyWarning(
            kind=WarningKind.LEAD_STALLED,
            customer=lead.customer,
            params={
                "lead": lead.description,
                "stage": lead.stage,
                "days": (now - lead.stage_entered_at).days,
            },
            due=lead.stage_entered_at + stalled_days,
            related=lead,
            person=lead.owner,
        )
        for lead in _scoped(leads, scope)
    ]


def _behind_target(user: Any, now: datetime, limits: dict[str, int]) -> list[EarlyWarning]:
    """Account managers and teams behind the month's target (`TARGET_INDICATORS`) by more than
    `TARGET_BEHIND_PERCENT`, pro rata to the days elapsed.

    Days elapsed are the whole days of the month before today, and the figures are measured over
    those same days (today's work counts from tomorrow, the day a day's pro rata share is asked):
    expected = target × days elapsed / days in the month; behind when actual < expected × (1 −
    threshold). Nothing is expected on the first of the month. Targets are the appraisal's
    (`targets_for`: the team's own for the month, else the defaults; a team's are the team leader's,
    measured on its account managers' pooled figures) and the actuals the appraisal indicators',
    so a warning never disagrees with the month's appraisal. Someone outside any team has no
    targets and is not warned.

    Whose: a manager their own (`people_scope`), a team leader their team's managers and the team
    they lead, coordinators, leadership and the system every one. A constant number of queries: the
    managers with their teams and leaders, the targets, and the indicators' sources."""
    today = timezone.localdate(now)
    start, end = month_bounds(today)
    elapsed, days_in_month = (today - start).days, (end - start).days
    if not elapsed:
        return []
    behind = Decimal(100 - limits["TARGET_BEHIND_PERCENT"])
    people = people_scope(user)
    managers = list(
        scoped(get_user_model().objects.all(), people)
        .filter(is_active=True, groups__name=ACCOUNT_MANAGER, staff_profile__team__isnull=False)
        .exclude(staff_profile__team__leader=F("pk"))
        .select_related("staff_profile__team__leader")
    )
    if not managers:
        return []
    teams = {m.staff_profile.team_id: m.staff_profile.team for m in managers}
    # A team's own figure is for whoever answers for the whole team: its leader, or everyone's reader.
    led = [t for t in teams.values() if people is EVERYTHING or t.leader_id == getattr(user, "pk", None)]
    targets = targets_for(teams=list(teams.values()), period=start)
    tallies = measure(person_ids=[m.pk for m in managers], start=start, end=today, codes=TARGET_INDICATORS)

    def shortfall(code: str, target: Decimal, actual: Decimal | None) -> dict[str, Any] | None:
        # actual < target × elapsed / days × (100 − threshold) / 100, in exact arithmetic.
        if actual is None or target <= 0 or actual * days_in_month * 100 >= target * elapsed * behind:
            return None
        places = Decimal("0.01") if INDICATORS[code].kind == AMOUNT else Decimal("0.1")
        return {
            "indicator": code,
            "target": target,
            "expected": (target * elapsed / days_in_month).quantize(places, ROUND_HALF_UP),
            "actual": actual,
            "elapsed": elapsed,
            "days_in_month": days_in_month,
        }

    warnings = []
    for manager in managers:
        for t in targets[(manager.staff_profile.team_id, AppraisedRole.ACCOUNT_MANAGER)]:
            if t.indicator in TARGET_INDICATORS:
                params = shortfall(
                    t.indicator, t.target, value_of(t.indicator, tallies[manager.pk][t.indicator])
                )
                if params:
                    warnings.append(
                        EarlyWarning(
                            kind=WarningKind.TARGET_BEHIND,
                            customer=None,
                            params={**params, "name": _person_name(manager)},
                            due=today,
                            related=manager,
                            person=manager,
                        )
                    )
    for team in led:
        members = [m.pk for m in managers if m.staff_profile.team_id == team.pk]
        for t in targets[(team.pk, AppraisedRole.TEAM_LEADER)]:
            if t.indicator in TARGET_INDICATORS:
                pooled = combine(tallies[pk][t.indicator] for pk in members)
                params = shortfall(t.indicator, t.target, value_of(t.indicator, pooled))
                if params:
                    warnings.append(
                        EarlyWarning(
                            kind=WarningKind.TARGET_BEHIND,
                            customer=None,
                            params={**params, "name": team.name, "team": True},
                            due=today,
                            related=team,
                            responsible=TEAM_LEADER,
                            person=team.leader,
                        )
                    )
    return warnings


def _person_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _name_who_acts(warnings: list[EarlyWarning]) -> list[EarlyWarning]:
    """Each warning with the person who must act: the visit's account manager (the customer's for
    the other kinds), the support engineer a request was dispatched to, or the team leader of the
    account manager. Two queries whatever the number of warnings; none for the warnings that came
    with their person."""

    def managing(warning: EarlyWarning) -> int | None:
        if isinstance(warning.related, Visit) and warning.related.account_manager_id:
            return warning.related.account_manager_id
        return warning.customer.account_manager_id

    # The warnings on results name theirs already (the manager, the team's leader, the lead's owner).
    named = [w for w in warnings if w.person is not None or w.customer is None]
    warnings = [w for w in warnings if w.person is None and w.customer is not None]
    leaders: dict[int, int | None] = {}
    led = {managing(w) for w in warnings if w.responsible == TEAM_LEADER} - {None}
    if led:
        leaders = dict(StaffProfile.objects.filter(user_id__in=led).values_list("user_id", "team__leader_id"))

    def acting(warning: EarlyWarning) -> int | None:
        if warning.responsible == SUPPORT_STAFF:
            return warning.related.assignee_id
        if warning.responsible == TEAM_LEADER:
            return leaders.get(managing(warning))
        return managing(warning)

    ids = [acting(w) for w in warnings]
    people = get_user_model().objects.in_bulk({i for i in ids if i is not None}) if any(ids) else {}
    return named + [replace(w, person=people.get(i)) for w, i in zip(warnings, ids, strict=True)]


def describe(warning: EarlyWarning) -> str:
    """The warning as a sentence in the active language: for whoever shows it, at the time."""
    values = {**warning.params, "customer": warning.customer.name if warning.customer else ""}
    if warning.kind == WarningKind.TARGET_BEHIND:
        return _describe_target(values)
    if warning.kind == WarningKind.LEAD_STALLED:
        values["stage"] = FunnelStage(values["stage"]).label
        return (
            ngettext(
                "The lead “%(lead)s” at %(customer)s has stalled at “%(stage)s” for %(days)d day.",
                "The lead “%(lead)s” at %(customer)s has stalled at “%(stage)s” for %(days)d days.",
                values["days"],
            )
            % values
        )
    if "date" in values:
        values["date"] = values["date"].isoformat()
    days = values.get("days", 0)
    if warning.kind == WarningKind.SUPPORT_OVERDUE:
        values["kind"] = SupportRequest.Kind(values["kind"]).label
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
    elif warning.kind == WarningKind.VISIT_PLAN_OVERDUE and values["planned"]:
        text = ngettext(
            "The visit to %(customer)s planned for %(date)s has not been made, %(days)d day past the plan.",
            "The visit to %(customer)s planned for %(date)s has not been made, %(days)d days past the plan.",
            days,
        )
    elif warning.kind == WarningKind.VISIT_PLAN_OVERDUE:
        text = ngettext(
            "The visit to %(customer)s due on %(date)s has no plan yet, %(days)d day late.",
            "The visit to %(customer)s due on %(date)s has no plan yet, %(days)d days late.",
            days,
        )
    elif warning.kind == WarningKind.REVIEW_OVERDUE:
        text = ngettext(
            "The summary of %(customer)s submitted on %(date)s is %(days)d day past its review date.",
            "The summary of %(customer)s submitted on %(date)s is %(days)d days past its review date.",
            days,
        )
    elif warning.kind == WarningKind.SUPPORT_OVERDUE and values["dispatched"]:
        text = ngettext(
            "%(kind)s support for %(customer)s needed by %(date)s is %(days)d day late.",
            "%(kind)s support for %(customer)s needed by %(date)s is %(days)d days late.",
            days,
        )
    elif warning.kind == WarningKind.SUPPORT_OVERDUE:
        text = ngettext(
            "%(kind)s support for %(customer)s needed by %(date)s is not dispatched, %(days)d day late.",
            "%(kind)s support for %(customer)s needed by %(date)s is not dispatched, %(days)d days late.",
            days,
        )
    elif warning.kind == WarningKind.RENEWAL_DUE and days:
        text = ngettext(
            "Our contract for %(product)s at %(customer)s ends in %(days)d day (%(date)s): renew it.",
            "Our contract for %(product)s at %(customer)s ends in %(days)d days (%(date)s): renew it.",
            days,
        )
    elif warning.kind == WarningKind.RENEWAL_DUE:
        text = _("Our contract for %(product)s at %(customer)s ends today: renew it.")
    elif days:
        text = ngettext(
            "The %(provider)s contract for %(product)s at %(customer)s ends in %(days)d day (%(date)s).",
            "The %(provider)s contract for %(product)s at %(customer)s ends in %(days)d days (%(date)s).",
            days,
        )
    else:
        text = _("The %(provider)s contract for %(product)s at %(customer)s ends today.")
    return text % values


def _describe_target(values: dict[str, Any]) -> str:
    code = values["indicator"]
    values["indicator"] = INDICATORS[code].label
    for figure in ("target", "expected", "actual"):
        values[figure] = _figure(values[figure])
    if values.get("team"):
        text = _(
            "Team %(name)s is behind its target for %(indicator)s this month: %(actual)s after "
            "%(elapsed)d of %(days_in_month)d days, against %(expected)s expected by now (target "
            "%(target)s)."
        )
    else:
        text = _(
            "%(name)s is behind the target for %(indicator)s this month: %(actual)s after "
            "%(elapsed)d of %(days_in_month)d days, against %(expected)s expected by now (target "
            "%(target)s)."
        )
    return text % values


def _figure(number: Decimal) -> str:
    # 4, 4.5, 193,333.33: digits grouped, no exponent, no needless decimals on a whole number.
    whole = number == number.to_integral_value()
    return f"{number.to_integral_value() if whole else number:,f}"


def _any(conditions) -> Q:
    combined = NOTHING
    for condition in conditions:
        combined |= condition
    return combined


def _moment(due: datetime | date) -> datetime:
    # A contract's expiry date sorts as the start of that local day.
    return due if isinstance(due, datetime) else timezone.make_aware(datetime.combine(due, time.min))
