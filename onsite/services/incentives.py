"""Incentive rules and records (效果评估和人员激励).

`award` turns an event into a pending record, once per person and event however often the task
that caused it runs; the team leader approves or rejects a team's pending records for a period in
the `incentive_review` process; approved records make up each person's statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_role, has_role
from onsite.amounts import format_amount, to_cents
from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import (
    IncentiveEvent,
    IncentiveRecord,
    IncentiveReview,
    IncentiveRule,
    StaffProfile,
    Team,
    Visit,
)
from onsite.roles import COORDINATOR
from onsite.selectors.incentive_rules import in_force_at, rule_in_force, rule_versions
from onsite.services.processes import start_domain_process
from workflows import clock
from workflows.actors import SYSTEM, person, person_id
from workflows.services import lock_instance_family

REVIEW_PROCESS = "incentive_review"
RULE_FIELDS = (
    "points",
    "amount",
    "high_urgency_weight",
    "medium_urgency_weight",
    "low_urgency_weight",
    "points_per_10k_value",
    "value_share",
)


def set_incentive_rule(
    *,
    event: str,
    values: dict,
    user: Any,
    reason: str,
    effective_from: datetime | None = None,
) -> IncentiveRule:
    """A coordinator sets what `event` is worth from `effective_from` (now by default, never in the
    past): a new rule holding the terms of the rule in force then with `values` changed. Records
    already made keep the rule they were made with; events before that moment keep the rule in
    force when they happened."""
    check_role(user, COORDINATOR)
    now = clock.now()
    moment = effective_from or now
    errors: dict[str, list[str]] = {}
    if event not in IncentiveEvent.values:
        errors["event"] = [_("There is no such event.")]
    for name in sorted(set(values) - set(RULE_FIELDS) - {"active"}):
        errors[name] = [_("This field cannot be set here.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the rule changes.")]
    if moment < now:
        errors["effective_from"] = [_("A change applies from now on; it cannot start in the past.")]
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        # One change of an event's rules at a time, so "the rule in force then" is read consistently.
        list(IncentiveRule.objects.select_for_update().filter(event=event).values_list("pk"))
        base = rule_in_force(event, at=moment)
        terms = {name: getattr(base, name) for name in IncentiveRule.TERMS} if base else {}
        rule = IncentiveRule(
            event=event,
            **(terms | values),
            created_by=person(user),
            effective_from=moment,
            reason=reason.strip(),
        )
        validate_rule(rule)
        if base is not None and all(getattr(base, n) == getattr(rule, n) for n in IncentiveRule.TERMS):
            raise InvalidInput({"": [_("This is the rule in force then; nothing changes.")]})
        rule.save()
    return rule


def validate_rule(rule: IncentiveRule) -> None:
    errors = {}
    for name in RULE_FIELDS:
        value = getattr(rule, name)
        try:
            if Decimal(value) < 0:
                errors[name] = [_("Must not be negative.")]
        except (ArithmeticError, TypeError, ValueError):
            errors[name] = [_("Enter a number.")]
    if errors:
        raise InvalidInput(errors)
    rule.full_clean(exclude=["created_by"], validate_constraints=False)


@dataclass(frozen=True)
class Award:
    """An event that earns `person` a record, once per (person, event, key); see `award`."""

    event: str
    person: Any
    key: str
    description: str
    at: datetime
    urgency: str | None = None
    value: Decimal | None = None
    links: dict = field(default_factory=dict)
    share: Decimal | None = None


def award(
    event: str,
    *,
    person: Any,
    key: str,
    description: str,
    at: datetime,
    urgency: str | None = None,
    value: Decimal | None = None,
    share: Decimal | None = None,
    **links: Any,
) -> IncentiveRecord | None:
    """A pending record for `person`, once per (person, event, key), by the event's rule in force at
    `at`; None when there is none or it is not active.

    `at` is when the event happened - the visit made, the summary submitted - not when it was
    approved: the record belongs to that moment's period. `share` is the person's part of what the
    event is worth (a project team member's share of a won lead); None: all of it."""
    rule = rule_in_force(event, at=at)
    if rule is None or person is None:
        return None
    draft = _record(rule, Award(event, person, key, description, at, urgency, value, links, share))
    with transaction.atomic():
        record, _created = IncentiveRecord.objects.get_or_create(
            person=person,
            event=event,
            event_key=key,
            defaults={name: getattr(draft, name) for name in RECORD_DEFAULTS} | links,
        )
    return record


def award_all(awards: Iterable[Award]) -> None:
    """Every award as `award` makes it, in two statements however many there are: the active rules
    read at once, the records inserted at once. A record already there (a retried task) is kept as
    it is and not duplicated - the unique (person, event, key) skips it."""
    awards = [a for a in awards if a.person is not None]
    if not awards:
        return
    versions = rule_versions({a.event for a in awards})
    records = []
    for a in awards:
        rule = in_force_at(versions.get(a.event, []), a.at)
        if rule is not None:
            records.append(_record(rule, a))
    IncentiveRecord.objects.bulk_create(records, ignore_conflicts=True)


# How precisely a record keeps the share it was awarded (the amount is computed from the exact one).
SHARE_PLACES = Decimal("0.000001")
# What a record takes from its rule and event, besides who earned it for what.
RECORD_DEFAULTS = ("rule", "points", "amount", "share", "period", "description", "created_at")


def _record(rule: IncentiveRule, award: Award) -> IncentiveRecord:
    weight = {
        "high": rule.high_urgency_weight,
        "medium": rule.medium_urgency_weight,
        "low": rule.low_urgency_weight,
    }.get(award.urgency or "", Decimal(1))
    value = Decimal(award.value or 0)
    points = rule.points * weight + rule.points_per_10k_value * value / Decimal(10000)
    amount = rule.amount * weight + rule.value_share * value
    if award.share is not None:
        points, amount = points * award.share, amount * award.share
    return IncentiveRecord(
        person=award.person,
        event=award.event,
        event_key=award.key,
        rule=rule,
        points=to_cents(points),
        amount=to_cents(amount),
        share=award.share.quantize(SHARE_PLACES) if award.share is not None else None,
        period=period_of(award.at),
        description=award.description[:300],
        created_at=award.at,
        **award.links,
    )


def reward_visit_support(*, visit: Visit, prepared_by: Any, prepared_at: datetime, attended: bool) -> None:
    """Support staff earn their records for a visit (seed 002: every participant is rewarded): one
    for preparing it, one for going along; each in the period it happened."""
    if prepared_by is None:
        return
    links = {"customer": visit.customer, "visit": visit}
    award(
        IncentiveEvent.VISIT_SUPPORT_PREPARED,
        person=prepared_by,
        key=f"visit:{visit.pk}",
        description=_("Prepared visit %(visit)s") % {"visit": visit},
        at=prepared_at,
        **links,
    )
    if attended and visit.visited_at is not None:
        award(
            IncentiveEvent.VISIT_SUPPORT_ATTENDED,
            person=prepared_by,
            key=f"visit:{visit.pk}",
            description=_("Attended visit %(visit)s") % {"visit": visit},
            at=visit.visited_at,
            **links,
        )


def reward_visit_attendance(*, visit: Visit, attendee: Any) -> IncentiveRecord | None:
    """A project team member who went along on a visit earns what attending a visit earns."""
    return award(
        IncentiveEvent.VISIT_SUPPORT_ATTENDED,
        person=attendee,
        key=f"visit:{visit.pk}",
        description=_("Attended visit %(visit)s") % {"visit": visit},
        at=visit.visited_at,
        customer=visit.customer,
        visit=visit,
    )


def period_of(moment: datetime | date) -> date:
    day = timezone.localtime(moment).date() if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def request_incentive_review(*, team: Team, period: date, user: Any) -> IncentiveReview:
    """Start the team leader's review of the team's pending records for the month of `period`."""
    if not (
        has_role(user, COORDINATOR) or (team.leader_id is not None and team.leader_id == person_id(user))
    ):
        raise NotPermitted(_("Only the team's leader or a coordinator can start its incentive review."))
    if team.leader_id is None:
        raise InvalidInput({"team": [_("The team has no team leader to review its incentives.")]})
    period = period.replace(day=1)
    with transaction.atomic():
        # One request per team at a time: a second one (the monthly job run by two clusters at
        # once, a leader clicking twice) waits, then finds the records collected by the first.
        Team.objects.select_for_update().filter(pk=team.pk).first()
        if not pending_records(team, period).exists():
            raise OnsiteError(
                _("%(team)s has no pending incentive records for %(period)s.")
                % {"team": team, "period": period.strftime("%Y-%m")}
            )
        review = IncentiveReview.objects.create(
            team=team, period=period, requested_by=person(user), created_at=timezone.now()
        )
        review.instance = start_domain_process(
            REVIEW_PROCESS,
            business_key=f"{team.pk}/{period:%Y-%m}",
            user=user,
            data={"review_id": review.pk, "team_name": team.name, "period": period.strftime("%Y-%m")},
        )
        review.save(update_fields=["instance"])
    return review


def request_incentive_reviews(*, period: date) -> list[IncentiveReview]:
    """The monthly review: every team with a leader and pending records for the month of `period`
    gets its review, on the platform's behalf. Running it again starts only what is missing (the
    records a review collected are no longer pending)."""
    period = period.replace(day=1)
    pending = IncentiveRecord.objects.filter(
        period=period, status=IncentiveRecord.Status.PENDING, review__isnull=True
    ).values("person_id")
    with_pending = StaffProfile.objects.filter(user_id__in=pending).values("team_id")
    teams = Team.objects.filter(leader__isnull=False, pk__in=with_pending).order_by("pk")
    started = []
    for team in teams:
        try:
            started.append(request_incentive_review(team=team, period=period, user=SYSTEM))
        except OnsiteError:
            if pending_records(team, period).exists():
                raise  # not a run at the same moment: the review could not start
            continue  # collected by a run at the same moment: nothing pending any more
    return started


def pending_records(team: Team, period: date):
    members = StaffProfile.objects.filter(team=team).values("user_id")
    return IncentiveRecord.objects.filter(
        person_id__in=members, period=period, status=IncentiveRecord.Status.PENDING, review__isnull=True
    )


def collect_review(*, review: IncentiveReview) -> dict:
    """Put the team's pending records in this review (the task lists them)."""
    pending_records(review.team, review.period).update(review=review)
    included = list(review.records.order_by("person__username", "created_at").select_related("person"))
    return {
        "record_ids": [r.pk for r in included],
        "records": len(included),
        "points": format_amount(sum((r.points for r in included), Decimal(0))),
        "amount": format_amount(sum((r.amount for r in included), Decimal(0))),
    }


def decide_review(
    *, review: IncentiveReview, rejections: list[dict], note: str, actor: Any, at: datetime
) -> dict:
    """Reject the records listed (each with a reason), approve the rest of the review."""
    if review.status == IncentiveReview.Status.DECIDED:
        return _outcome(review)
    reasons = {int(r["record_id"]): r.get("reason", "") for r in rejections}
    unknown = set(reasons) - set(review.records.values_list("pk", flat=True))
    if unknown:
        raise OnsiteError(
            _("Records %(ids)s are not part of this review.") % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    pending = review.records.filter(status=IncentiveRecord.Status.PENDING)
    for record in pending.filter(pk__in=reasons):
        record.status = IncentiveRecord.Status.REJECTED
        record.decision_note = reasons[record.pk] or note
        record.decided_by, record.decided_at = person(actor), at
        record.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    pending.exclude(pk__in=reasons).update(
        status=IncentiveRecord.Status.APPROVED, decided_by=person(actor), decided_at=at, decision_note=note
    )
    review.status, review.decided_at = IncentiveReview.Status.DECIDED, at
    review.save(update_fields=["status", "decided_at"])
    return _outcome(review)


PAYMENT_REFERENCE_LENGTH = 100


def record_payment(*, team: Team, period: date, reference: str, user: Any) -> int:
    """A coordinator records that the team's approved incentives of the month of `period` were paid
    out, in the payroll batch `reference`; how many records. All of them at once, each once: what
    is already paid is left as it was, and with nothing left to pay the call is refused."""
    check_role(user, COORDINATOR)
    reference = (reference or "").strip()
    if not reference or len(reference) > PAYMENT_REFERENCE_LENGTH:
        raise InvalidInput(
            {"reference": [_("Enter the payment's reference (the payroll batch), at most 100 characters.")]}
        )
    period = period.replace(day=1)
    members = StaffProfile.objects.filter(team=team).values("user_id")
    with transaction.atomic():
        # The reviews' families first (they approve these records), then the records.
        reviews = IncentiveReview.objects.filter(team=team, period=period, instance__isnull=False)
        for instance_id in reviews.order_by("instance_id").values_list("instance_id", flat=True):
            lock_instance_family(instance_id=instance_id)
        unpaid = IncentiveRecord.objects.select_for_update().filter(
            person_id__in=members, period=period, status=IncentiveRecord.Status.APPROVED, paid_at__isnull=True
        )
        ids = list(unpaid.values_list("pk", flat=True))
        if not ids:
            raise OnsiteError(
                _("%(team)s has no approved incentives of %(period)s left to pay.")
                % {"team": team, "period": period.strftime("%Y-%m")}
            )
        IncentiveRecord.objects.filter(pk__in=ids).update(
            paid_at=clock.now(), paid_by=person(user), payment_reference=reference
        )
    return len(ids)


def _outcome(review: IncentiveReview) -> dict:
    statuses = list(review.records.values_list("status", flat=True))
    return {
        "approved": statuses.count(IncentiveRecord.Status.APPROVED),
        "rejected": statuses.count(IncentiveRecord.Status.REJECTED),
    }
