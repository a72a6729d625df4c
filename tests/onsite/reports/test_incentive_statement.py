"""The incentive statement, rendered end to end: a person's month of records earned through the
services (a visit closed, its summary approved), the team leader's review deciding them; every record
with its event, rule, amount, points and status, the totals and who approved. Read back with pypdf."""

import io
from datetime import date

import pytest
from django.utils import translation
from pypdf import PdfReader

from onsite import tasks
from onsite.exceptions import NotPermitted
from onsite.models import IncentiveRecord, ReportKind
from onsite.reports.pdf import installed_cjk_family
from onsite.services.incentives import record_payment, request_incentive_review
from onsite.services.reports import request_report
from tests.onsite.factories import TeamFactory
from tests.onsite.flow import close_visit, complete, customer_of, enrol, new_programme, open_task
from tests.onsite.reports.test_pdf import fonts_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(installed_cjk_family() is None, reason="no CJK font installed"),
]


@pytest.fixture
def month(org):
    """The manager's month: a visit's records, one rejected by the team leader, the rest approved."""
    customer = customer_of(org, name="合肥银行")
    close_visit(enrol(org, new_programme(org), customer), org)
    records = list(IncentiveRecord.objects.filter(person=org.manager).order_by("pk"))
    period = records[0].period
    review = request_incentive_review(team=org.team, period=period, user=org.leader)
    open_task(review.instance, "Task_review_incentives")
    complete(
        review.instance,
        "Task_review_incentives",
        org.leader,
        {"rejections": [{"record_id": records[0].pk, "reason": "重复录入"}], "review_note": "其余属实"},
    )
    return period


def statement_pdf(org, period: date, user, language: str = "zh-hans") -> bytes:
    with translation.override(language):
        report = request_report(
            kind=ReportKind.INCENTIVE_STATEMENT,
            params={"person": org.manager.pk, "period": period.strftime("%Y-%m")},
            user=user,
        )
    assert tasks.generate_report(report.pk) is True
    report.refresh_from_db()
    return bytes(report.content)


def test_every_record_with_its_rule_status_the_totals_and_the_team_leaders_approval(org, month):
    pdf = statement_pdf(org, month, org.leader)

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    records = IncentiveRecord.objects.filter(person=org.manager)
    approved = records.filter(status="approved")
    assert "激励对账单" in text and month.strftime("%Y-%m") in text
    with translation.override("zh-hans"):
        for record in records:
            assert str(record.get_event_display()) in text
            assert str(record.get_status_display()) in text
            assert f"{record.rule.points} 分，{record.rule.amount} 元" in text  # its rule
    assert "重复录入" in text  # the rejection's reason
    total = sum(r.amount for r in approved)
    assert f"{total:.2f}" in text
    assert "班组长审批" in text and "已审核" in text
    assert org.leader.get_full_name() in text  # who decided
    assert any("CJK" in name or "SourceHan" in name for name in fonts_of(reader))


def test_a_team_leader_makes_a_members_statement_but_not_another_teams_leader(org, month):
    other_leader = TeamFactory(name="政企客户二组", region=org.branch).leader

    assert statement_pdf(org, month, org.leader, language="en").startswith(b"%PDF")
    with pytest.raises(NotPermitted):
        request_report(
            kind=ReportKind.INCENTIVE_STATEMENT,
            params={"person": org.manager.pk, "period": month.strftime("%Y-%m")},
            user=other_leader,
        )


def test_a_paid_record_shows_when_and_in_which_payroll_batch(org, month):
    record_payment(team=org.team, period=month, reference="2026-12 工资批次", user=org.coordinator)

    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(statement_pdf(org, month, org.manager))).pages
    )

    flowing = "".join(text.split())  # the status column wraps its lines
    assert "已发放" in flowing and "2026-12工资批次" in flowing
