"""In Chromium: a coordinator opens the migration page of the visit cycle's version 2, reads the dry
run (one visit can move, one in error cannot), and migrates the chosen one; on a desktop and on a
375 px phone, with no sideways scrolling there. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest

from tests.onsite.changed_diagrams import deploy_text, visit_cycle_text, with_thank_you_call
from tests.onsite.flow import current_visit, customer_of, enrol, new_programme, refreshed
from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

URL = "/console/models/visit_cycle/v2/migrate/"


@pytest.fixture
def visits(org):
    programme = new_programme(org)
    movable = current_visit(enrol(org, programme, customer_of(org, name="合肥供电公司")))
    failed = current_visit(enrol(org, programme, customer_of(org, name="合肥市第一人民医院")))
    ProcessInstance.objects.filter(pk=failed.pk).update(status=ProcessInstance.Status.ERROR)
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    return movable, failed


def test_a_coordinator_reads_the_dry_run_and_migrates_the_chosen_visit(org, visits, desktop):
    movable, failed = visits
    desktop.sign_in(org.coordinator.username)
    desktop.goto(URL)
    page = desktop.page
    assert page.locator("h1").inner_text() == "将运行中的实例迁移到 驻点走访 第 2 版"
    assert page.locator(f"#instance-{movable.pk}").is_checked()
    assert page.locator(f"#instance-{failed.pk}").count() == 0
    assert "该实例出错：请先重试或终止。" in page.locator("table").inner_text()
    desktop.screenshot("console-migration")

    page.fill("#migration-reason", "新增回访致谢")
    page.click("button[value=migrate]")
    page.wait_for_load_state()

    assert "已迁移 1 个实例" in page.locator("#migration-outcome").inner_text()
    assert refreshed(movable).version.number == 2
    desktop.screenshot("console-migration-done")


def test_the_migration_page_fits_a_phone(org, visits, phone):
    phone.sign_in(org.coordinator.username)
    phone.goto(URL)
    assert phone.page.locator("button[value=migrate]").is_visible()
    phone.screenshot("console-migration")
    assert phone.no_horizontal_scroll()
