"""Appraisal figures (绩效考核): each member of a team measured on their role's indicators against the
targets for the month, and the team leader on the team's pooled figures against the team-leader
targets; and a stored appraisal as data (its lines and the history of its score).

The targets for a team, role and month are the ones its leader set for that month, or else the
defaults (no team, no month). Everything is codes and numbers; `INDICATORS[code].label` words an
indicator when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q

from onsite.access import check_person_read, check_team_read
from onsite.models import Appraisal, AppraisalLine, AppraisalScoreChange, AppraisalTarget, AppraisedRole, Team
from onsite.roles import ACCOUNT_MANAGER, SUPPORT_STAFF
from onsite.selectors.appraisal_indicators import Breakdown, combine, measure, score, value_of
from onsite.thresholds import threshold


@dataclass(frozen=True)
class Figures:
    person: Any
    role: str  # an AppraisedRole code
    breakdown: Breakdown


def month_bounds(period: date) -> tuple[date, date]:
    """The month `period` falls in, as [first day, first day of the next month)."""
    start = period.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def targets_for(*, teams: list[Team], period: date) -> dict[tuple[int, str], list[AppraisalTarget]]:
    """Per (team id, role), the targets that apply for the month of `period`: the team's own for
    that month where it has any for the role, else the defaults. One query."""
    period = period.replace(day=1)
    rows = list(
        AppraisalTarget.objects.filter(
            Q(team__isnull=True, period__isnull=True) | Q(team__in=teams, period=period)
        ).order_by("pk")
    )
    defaults: dict[str, list[AppraisalTarget]] = {}
    own: dict[tuple[int, str], list[AppraisalTarget]] = {}
    for row in rows:
        if row.team_id is None:
            defaults.setdefault(row.role, []).append(row)
        else:
            own.setdefault((row.team_id, row.role), []).append(row)
    return {
        (team.pk, role): own.get((team.pk, role)) or defaults.get(role, [])
        for team in teams
        for role in AppraisedRole.values
    }


def team_appraisal_figures(*, team: Team, period: date, user: Any) -> list[Figures]:
    """The month's figures of the team's account managers and support engineers, then its leader's
    (on the team's pooled figures), in a constant number of queries whatever the team's size; for
    someone who may read the team."""
    check_team_read(user, team)
    return figures_for(team=team, period=period)


def figures_for(*, team: Team, period: date) -> list[Figures]:
    start, end = month_bounds(period)
    members = _members(team)
    targets = targets_for(teams=[team], period=start)
    codes = [t.indicator for role in AppraisedRole.values for t in targets[(team.pk, role)]]
    tallies = measure(person_ids=[m.pk for m, _role in members], start=start, end=end, codes=codes)
    # The cap in force on the month's first day: a month is judged by the rules it began with,
    # however they were changed since.
    cap = threshold("APPRAISAL_ATTAINMENT_CAP_PERCENT", on=start)
    figures = []
    for member, role in members:
        values = {code: value_of(code, tally) for code, tally in tallies[member.pk].items()}
        figures.append(Figures(member, role, score(values, targets[(team.pk, role)], cap_percent=cap)))
    if team.leader is not None:
        leader_targets = targets[(team.pk, AppraisedRole.TEAM_LEADER)]
        values = {
            t.indicator: value_of(t.indicator, combine(tallies[m.pk].get(t.indicator) for m, _r in members))
            for t in leader_targets
        }
        figures.append(
            Figures(team.leader, AppraisedRole.TEAM_LEADER, score(values, leader_targets, cap_percent=cap))
        )
    return figures


def _members(team: Team) -> list[tuple[Any, str]]:
    """The team's active account managers and support engineers (not its leader), each with the
    role they are appraised in: account manager when they are both."""
    rows = (
        get_user_model()
        .objects.filter(
            staff_profile__team=team, is_active=True, groups__name__in=[ACCOUNT_MANAGER, SUPPORT_STAFF]
        )
        .exclude(pk=team.leader_id)
        .values_list("pk", "groups__name")
    )
    roles: dict[int, str] = {}
    for pk, group in rows:
        if roles.get(pk) != ACCOUNT_MANAGER:
            roles[pk] = group
    people = get_user_model().objects.in_bulk(list(roles)) if roles else {}
    ordered = sorted(people.values(), key=lambda u: (u.last_name, u.first_name, u.username))
    return [(user, AppraisedRole(roles[user.pk])) for user in ordered]


def appraisal_record(*, appraisal: Appraisal, user: Any) -> dict[str, Any]:
    """A stored appraisal as data - its lines and every change of its score - for someone who may
    read the person's records."""
    check_person_read(user, appraisal.person)
    return _as_data(appraisal, appraisal.lines.order_by("pk"), appraisal.changes.order_by("at", "pk"))


def _as_data(appraisal: Appraisal, lines: Any, changes: Any) -> dict[str, Any]:
    return {
        "id": appraisal.pk,
        "instance_id": appraisal.instance_id,
        "person_id": appraisal.person_id,
        "team_id": appraisal.team_id,
        "role": appraisal.role,
        "period": appraisal.period,
        "status": appraisal.status,
        "computed_score": appraisal.computed_score,
        "score": appraisal.score,
        "final_score": appraisal.final_score,
        "leader_comment": appraisal.leader_comment,
        "dispute_reason": appraisal.dispute_reason,
        "decision_note": appraisal.decision_note,
        "lines": [
            {
                "indicator": line.indicator,
                "value": line.value,
                "target": line.target,
                "weight": line.weight,
                "attainment": line.attainment,
                "points": line.points,
            }
            for line in lines
        ],
        "history": [
            {
                "kind": change.kind,
                "score_from": change.score_from,
                "score_to": change.score_to,
                "reason": change.reason,
                "by_id": change.by_id,
                "at": change.at,
            }
            for change in changes
        ],
    }


def incentive_multiplier(score: Decimal | None, bands: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The multiplier of the highest band (`(min_score, multiplier)`) `score` reaches; None without
    a score or a band it reaches."""
    if score is None:
        return None
    reached = [(minimum, multiplier) for minimum, multiplier in bands if score >= minimum]
    return max(reached)[1] if reached else None


def appraisals_of(*, person: Any, user: Any, limit: int = 12) -> list[dict[str, Any]]:
    """`person`'s latest appraisals (`limit` months), each as `appraisal_record` gives it, for
    someone who may read the person's records. Three queries whatever the number of months: the
    appraisals, their lines, their score changes."""
    check_person_read(user, person)
    appraisals = list(
        Appraisal.objects.filter(person=person)
        .prefetch_related(
            Prefetch("lines", queryset=AppraisalLine.objects.order_by("pk")),
            Prefetch("changes", queryset=AppraisalScoreChange.objects.order_by("at", "pk")),
        )
        .order_by("-period")[:limit]
    )
    return [_as_data(appraisal, appraisal.lines.all(), appraisal.changes.all()) for appraisal in appraisals]
