"""The reports a person may read (`onsite.access.report_scope`): the list, newest first, without
the PDFs' bytes; one report's page; its download. A report someone may not read does not exist for
them (`Report.DoesNotExist`, a 404 on the pages). A report left running by a worker that stopped
reads as failed (`is_stalled`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import reports_visible_to
from onsite.models import Report, ReportKind, Visit

STOPPED = "stopped"  # the status shown for a report whose worker stopped
# Seconds past a job's timeout before a running report is taken to be a dead worker's: the cluster's
# guard stops a worker its timeout did not (django-q2 gives it 3 s), and a loaded machine is late.
RUNNING_MARGIN_SECONDS = 5


def running_expiry() -> timedelta:
    """How long a report can be running: longer than any job can live (the cluster ends a job at
    its timeout), so one running longer was left by a worker that stopped."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + RUNNING_MARGIN_SECONDS)


def is_stalled(report: Report, *, now: datetime | None = None) -> bool:
    """Left running by a worker that stopped: shown as failed, and may be retried."""
    if report.status != Report.Status.RUNNING or report.started_at is None:
        return False
    return report.started_at < (now or timezone.now()) - running_expiry()


def reports_for(*, user: Any) -> QuerySet:
    """The reports `user` may read, newest first, their bytes left in the database."""
    return (
        reports_visible_to(user)
        .defer("content")
        .select_related("requested_by")
        .order_by("-requested_at", "-pk")
    )


def report_for(*, report_id: int, user: Any) -> Report:
    """One report `user` may read, without its bytes, its shown status worked out."""
    return shown(reports_for(user=user).get(pk=report_id))


def report_pdf(*, report_id: int, user: Any) -> Report:
    """A finished report `user` may read, with its bytes (anything else: `Report.DoesNotExist`)."""
    return reports_visible_to(user).get(pk=report_id, status=Report.Status.DONE)


def visit_reports(*, visit: Visit, user: Any) -> list[Report]:
    """The reports of `visit` that `user` may read, newest first."""
    found = reports_for(user=user).filter(
        kind=ReportKind.VISIT, customer_id=visit.customer_id, params__visit=visit.pk
    )
    return [shown(report) for report in found]


def shown(report: Report, *, now: Any = None) -> Report:
    """The report with `shown_status` (a Report.Status code, or "stopped") and `shown_error`."""
    if is_stalled(report, now=now or timezone.now()):
        report.shown_status = STOPPED
        report.shown_error = _("The worker stopped while generating it.")
    else:
        report.shown_status = report.status
        report.shown_error = report.error
    return report


def shown_page(reports: Any) -> Any:
    """Each report of a page (or list), with its shown status."""
    now = timezone.now()
    for report in reports:
        shown(report, now=now)
    return reports
