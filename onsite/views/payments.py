"""Incentive payments (`/incentives/payments/`): each team's approved incentives of a month, and the
coordinator recording a team's payout with its payroll batch (`record_payment`). Leadership reads
the page; a refusal comes back as a message on it (`refusals`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onsite.access import has_role
from onsite.models import Team
from onsite.roles import COORDINATOR
from onsite.selectors.incentives import team_payments
from onsite.services.incentives import record_payment
from onsite.views.periods import month_asked


@login_required
@require_safe
def payments_page(request: HttpRequest) -> HttpResponse:
    period = month_asked(request.GET.get("period"))
    return render(
        request,
        "onsite/payments/index.html",
        {
            "period": period,
            "teams": team_payments(period=period, user=request.user),
            "may_pay": has_role(request.user, COORDINATOR),
        },
    )


@login_required
@require_POST
def pay(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    period = month_asked(request.POST.get("period"))
    paid = record_payment(
        team=team, period=period, reference=request.POST.get("reference", ""), user=request.user
    )
    messages.success(
        request,
        _("%(count)s incentive records of %(team)s recorded as paid.") % {"count": paid, "team": team.name},
    )
    return redirect(f"{reverse('incentive_payments')}?period={period:%Y-%m}")
