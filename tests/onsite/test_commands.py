"""`manage.py start_win_back_targets`, the command operators run until the scheduler does."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from onsite.models import WinBackTarget
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import build_org, customer_of, deploy_processes
from workflows.models import HumanTask
from workflows.services import complete_task, terminate_instance

pytestmark = pytest.mark.django_db


def start_targets(*args: str) -> str:
    out = io.StringIO()
    call_command("start_win_back_targets", *args, stdout=out, language="en")
    return out.getvalue()


@pytest.fixture
def expiring():
    """One competitor contract 60 days from 2026-12-01, one 120 days away."""
    deploy_processes()
    org = build_org()
    customer = customer_of(org, code="GC-0100")
    soon = ProductHoldingFactory(customer=customer, product="视频会议", expiry_date=date(2027, 1, 30))
    ProductHoldingFactory(customer=customer, product="物联网卡", expiry_date=date(2027, 3, 31))
    return org, soon


def test_starts_a_task_for_each_contract_in_the_window_and_prints_it(expiring):
    org, soon = expiring

    output = start_targets("--date", "2026-12-01")

    target = WinBackTarget.objects.get()
    assert target.product == soon
    assert f"GC-0100\t视频会议\t2027-01-30\t#{target.instance_id}" in output
    assert "1 win-back task started." in output
    assert HumanTask.objects.get(instance=target.instance, status="open").assignee == org.manager


def test_a_second_run_starts_nothing_and_a_wider_window_reaches_further(expiring):
    start_targets("--date", "2026-12-01")

    assert "0 win-back tasks started." in start_targets("--date", "2026-12-01")
    start_targets("--date", "2026-12-01", "--window-days", str((date(2027, 3, 31) - date(2026, 12, 1)).days))
    assert WinBackTarget.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "2026-13-01"), "is not a date"),
        (("--window-days", "-1"), "cannot be negative"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(expiring, args, message):
    with pytest.raises(CommandError, match=message):
        start_targets(*args)
    assert not WinBackTarget.objects.exists()


def test_without_competitor_contracts_it_reports_none(db):
    deploy_processes()
    assert "0 win-back tasks started." in start_targets("--date", "2026-12-01")


def test_runs_after_the_tasks_were_decided_or_terminated_start_nothing_again(expiring):
    org, _soon = expiring
    start_targets("--date", "2026-12-01", "--window-days", "365")
    first, second = WinBackTarget.objects.order_by("expiry_date")
    complete_task(
        task_id=HumanTask.objects.get(instance=first.instance, status="open").pk,
        data={"decision": "decline", "decline_reason": "客户刚续约"},
        user=org.manager,
    )
    terminate_instance(instance_id=second.instance_id, user=org.coordinator, reason="不再跟进")

    output = start_targets("--date", "2026-12-01", "--window-days", "365")

    assert "0 win-back tasks started." in output
    assert WinBackTarget.objects.count() == 2


def test_a_process_that_cannot_start_is_a_command_error_naming_the_cause(db):
    org = build_org()
    ProductHoldingFactory(customer=customer_of(org), expiry_date=date(2027, 1, 30))

    with pytest.raises(CommandError, match="No process 'win_back' is deployed"):
        start_targets("--date", "2026-12-01")
    assert not WinBackTarget.objects.exists()


def test_speaks_chinese_by_default_and_english_when_asked(db):
    deploy_processes()
    out = io.StringIO()
    call_command("start_win_back_targets", "--date", "2026-12-01", stdout=out)
    assert out.getvalue() == "已启动 0 个策反任务。\n"
    assert start_targets("--date", "2026-12-01") == "0 win-back tasks started.\n"


def test_import_customers_speaks_chinese_by_default(db, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("客户编码,客户名称\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"^未导入任何数据：请修正以上错误后重新导入该文件。$"):
        call_command("import_customers", str(path), "--dry-run", stdout=io.StringIO())
