"""PDF reports: asked for, made by a background job, retried.

`request_report` stores the request (queued) with what the report is about, and queues the job
after commit (`onsite.tasks.generate_report`); nothing is rendered in the web request. The job
(`generate_report`) first claims the report in a committed step of its own (one UPDATE from queued
to running, which two runs cannot both win), so a second run at the same moment neither waits for
the first nor renders twice, and a report that is done is never rendered again. It renders outside
any transaction, then stores the PDF, its size and SHA-256 — only if its claim still stands. A
failure is stored with its reason in words (the traceback goes to the log) and ends the job
normally: django-q does not try it again and again; a person retries it (`retry_report`).

A report is claimed only from queued, so a job django-q hands out again after its worker died
finds it running and leaves it. Running for longer than any job can live (the cluster's timeout,
`running_expiry`), it was left by a worker that stopped: it is shown as failed and can be retried.

Identical requests (same kind, normalised filters and language, whoever asks) are deduplicated while one is
queued or being generated: a double click or two people asking at once get the report already on
its way. A finished report is not reused: it is a snapshot of the data when it was made, so asking
again makes a new one. The system asks for each report once (a visit's when its summary is
approved, however often that event is handled), by a unique constraint, not a look-up alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from onsite.access import sees_report
from onsite.exceptions import NotPermitted, OnsiteError
from onsite.models import Region, Report, ReportKind, Visit, VisitSummary
from onsite.reports.registry import kind_module
from onsite.selectors.reports import is_stalled, report_for, running_expiry
from workflows.actors import SYSTEM, person
from workflows.refusals import Refusal

REPORT_JOB = "onsite.tasks.generate_report"
IN_FLIGHT = (Report.Status.QUEUED, Report.Status.RUNNING)
logger = logging.getLogger(__name__)


@transaction.atomic
def request_report(*, kind: str, params: dict, user: Any) -> Report:
    """A report of `kind` with the filters `params` for `user` (or `SYSTEM`), queued: the one
    already on its way when an identical request is queued or being generated. Refused (nothing
    stored) when the filters are wrong or `user` may not read what the report would show."""
    requester = person(user)
    language = settings.LANGUAGE_CODE if requester is None else translation.get_language()
    with translation.override(language):
        subject = kind_module(kind).subject(dict(params or {}), user)
    key = request_key(kind, subject.params, language)
    same = Report.objects.filter(kind=kind, request_key=key).defer("content")
    if requester is None:
        existing = same.filter(requested_by__isnull=True).first()
        if existing is not None:
            return existing
    else:
        on_its_way = same.filter(status__in=IN_FLIGHT).order_by("-requested_at").first()
        if on_its_way is not None and not is_stalled(on_its_way):
            return on_its_way
    report = Report(
        kind=kind,
        params=subject.params,
        request_key=key,
        title=subject.title[:300],
        period=subject.period[:100],
        language=language,
        requested_by=requester,
        requested_at=timezone.now(),
        customer=subject.customer,
        person=subject.person,
        region=subject.region,
        team=subject.team,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # The system asked for it at the same moment elsewhere (a duplicated event).
        return same.get(requested_by__isnull=True)
    # The yes/no of the list filter, on the row itself: a module cannot let through what the
    # reports page would hide.
    if not sees_report(user, report):
        raise NotPermitted(_("You may not read what this report would show."))
    transaction.on_commit(lambda: _queue(report.pk), robust=True)
    return report


def request_key(kind: str, params: dict, language: str) -> str:
    """What identical requests share: the kind, its normalised filters and the language."""
    text = json.dumps({"kind": kind, "params": params, "language": language}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _queue(report_id: int) -> None:
    # Imported when used: django_q reads the settings when it is imported.
    from django_q.tasks import async_task

    async_task(REPORT_JOB, report_id)


def generate_report(*, report_id: int) -> bool:
    """Make the queued report `report_id`: claimed in a committed step, rendered outside any
    transaction, stored with its checksum; a failure stored with its reason. Whether this run made
    it (False: not queued — made, failed, or being made by another run)."""
    claimed_at = timezone.now()
    claimed = Report.objects.filter(pk=report_id, status=Report.Status.QUEUED).update(
        status=Report.Status.RUNNING,
        started_at=claimed_at,
        finished_at=None,
        error="",
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return False
    report = Report.objects.defer("content").get(pk=report_id)
    try:
        with translation.override(report.language):
            content = kind_module(report.kind).render(report.params)
    except Exception as exc:
        logger.exception("Report #%s (%s, %s) failed", report_id, report.kind, report.params)
        with translation.override(report.language):
            reason = failure_reason(exc)
        _finish(report_id, claimed_at, status=Report.Status.FAILED, error=reason)
        return False
    return _finish(
        report_id,
        claimed_at,
        status=Report.Status.DONE,
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _finish(report_id: int, claimed_at: datetime, **values: Any) -> bool:
    # Only while this run's claim stands: a report retried after this run was taken for dead is
    # the new run's.
    mine = Report.objects.filter(pk=report_id, status=Report.Status.RUNNING, started_at=claimed_at)
    return bool(mine.update(finished_at=timezone.now(), **values))


def failure_reason(exc: Exception) -> str:
    """Why a report failed, in words for the person who asked, in the active language."""
    if isinstance(exc, ObjectDoesNotExist):
        return _("What the report is about no longer exists: it was deleted after the report was asked for.")
    if isinstance(exc, Refusal):
        return str(exc.message)
    return _(
        "An error in the system stopped the report (%(error)s). Retry it; if it fails again, tell a "
        "coordinator."
    ) % {"error": type(exc).__name__}


@transaction.atomic
def retry_report(*, report_id: int, user: Any) -> Report:
    """Queue the failed report again (or one left running by a worker that stopped), recording who
    retried it and when; refused when it has not failed. A report `user` may not read does not
    exist for them."""
    report = report_for(report_id=report_id, user=user)
    now = timezone.now()
    failed = Q(status=Report.Status.FAILED) | Q(
        status=Report.Status.RUNNING, started_at__lt=now - running_expiry()
    )
    retried = Report.objects.filter(failed, pk=report.pk).update(
        status=Report.Status.QUEUED,
        error="",
        started_at=None,
        finished_at=None,
        retried_by=person(user),
        retried_at=now,
    )
    if not retried:
        raise OnsiteError(_("This report has not failed: there is nothing to retry."))
    transaction.on_commit(lambda: _queue(report.pk), robust=True)
    return report_for(report_id=report.pk, user=user)


def request_visit_report_on_approval(*, visit_id: int) -> Report | None:
    """The visit report the system makes when the visit's summary is approved, once per visit
    however often the approval's event is handled (`onsite.engine_events`)."""
    if not Visit.objects.filter(pk=visit_id, summary__status=VisitSummary.Status.APPROVED).exists():
        return None
    try:
        return request_report(kind=ReportKind.VISIT, params={"visit": visit_id}, user=SYSTEM)
    except OnsiteError:
        # A report that cannot be made must not hold up what the approval leads to.
        logger.exception("No visit report for visit #%s", visit_id)
        return None


def request_monthly_reports(*, period: date) -> list[Report]:
    """The monthly programme report of the month of `period` for every branch (its counties in it),
    asked for by the system on the first of the next month; once per branch and month however often
    the schedule runs (the system's requests are unique)."""
    start = period.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    branches = Region.objects.filter(parent__isnull=True).order_by("code").values_list("pk", flat=True)
    return [
        request_report(
            kind=ReportKind.MONTHLY,
            params={"start": start.isoformat(), "end": end.isoformat(), "region": str(branch)},
            user=SYSTEM,
        )
        for branch in branches
    ]
