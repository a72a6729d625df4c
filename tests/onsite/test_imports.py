"""Importing group customers from CSV and Excel files: a dry run reports every row's errors, a real run
imports all rows or none, and a file that cannot be read safely is refused as a whole."""

import csv
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from onsite.exceptions import NotPermitted
from onsite.models import Customer, CustomerChange, Industry, Tier
from onsite.services.imports import import_customers
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, RegionFactory

pytestmark = pytest.mark.django_db

HEADER_ZH = [
    "客户编码",
    "客户名称",
    "行业",
    "服务等级",
    "月均价值贡献",
    "发展潜力",
    "区域",
    "客户经理",
    "信息化现状",
]


@pytest.fixture
def coordinator():
    return UserFactory(username="coordinator1", roles=["coordinator"])


@pytest.fixture
def hefei():
    return RegionFactory(code="HF", name="合肥")


@pytest.fixture
def wuhu():
    return RegionFactory(code="WH", name="芜湖")


@pytest.fixture
def manager():
    return UserFactory(username="zhangsan", roles=["account_manager"])


@pytest.fixture
def support_engineer():
    return UserFactory(username="lisi", roles=["support_staff"])


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(content, user, *, name="customers.csv", dry_run=False):
    return import_customers(name=name, content=content, user=user, dry_run=dry_run)


def outcome(report):
    return [(row.line, row.code, row.action, row.errors) for row in report.rows]


def nothing_imported():
    return not Customer.objects.exists() and not CustomerChange.objects.exists()


# --- good files -----------------------------------------------------------------------------------


def test_a_csv_with_chinese_headers_creates_the_customers_with_history_from_the_import(
    coordinator, hefei, wuhu, manager
):
    content = csv_bytes(
        [
            HEADER_ZH,
            [
                "GC-001",
                "合肥市政务服务中心",
                "党政军",
                "a",
                "12,345.50元",
                "5",
                "合肥",
                "zhangsan",
                "自建机房",
            ],
            ["", "", "", "", "", "", "", "", ""],
            ["GC-002", "芜湖银行", "金融", "", "", "", "WH", "", ""],
        ]
    )

    report = run(content, coordinator)

    assert report.ok and report.applied and not report.dry_run
    assert (report.created, report.updated, report.unchanged, report.failed) == (2, 0, 0, 0)
    assert [(row.line, row.code, row.action) for row in report.rows] == [
        (2, "GC-001", "create"),
        (4, "GC-002", "create"),
    ]
    first = Customer.objects.get(code="GC-001")
    assert (first.name, first.industry, first.tier, first.monthly_value, first.potential) == (
        "合肥市政务服务中心",
        Industry.PARTY_GOVERNMENT_MILITARY,
        Tier.A,
        Decimal("12345.50"),
        5,
    )
    assert (first.region, first.account_manager, first.informatization_status) == (hefei, manager, "自建机房")
    second = Customer.objects.get(code="GC-002")
    assert (second.industry, second.region, second.tier, second.potential) == (
        Industry.FINANCE,
        wuhu,
        Tier.C,
        3,
    )
    assert second.account_manager is None and second.monthly_value == 0
    history = CustomerChange.objects.get(customer=first)
    assert (history.action, history.source, history.actor) == ("created", "import", coordinator)
    assert history.changes["region"] == [None, "合肥"]
    assert history.changes["account_manager"] == [None, "zhangsan"]
    assert history.changes["name"] == [None, "合肥市政务服务中心"]
    assert report.rows[0].changes == history.changes
    assert CustomerChange.objects.get(customer=second).source == CustomerChange.Source.IMPORT


def test_english_headers_are_recognised_whatever_their_case_spacing_or_underscores(coordinator, hefei):
    content = csv_bytes(
        [
            [" Code ", "NAME", "Industry", "Tier", "Monthly Value", "potential", "REGION", "account_manager"],
            ["GC-010", "Hefei Power", "power and energy", "B", "8000", "2", "hf", ""],
            ["GC-011", "Hefei Tours", "Tourism", "c", "0", "1", "合肥", ""],
        ]
    )

    report = run(content, coordinator)

    assert report.ok and report.warnings == []
    assert list(Customer.objects.values_list("code", "industry", "tier", "potential", "region__code")) == [
        ("GC-010", Industry.POWER_ENERGY, Tier.B, 2, "HF"),
        ("GC-011", Industry.TOURISM, Tier.C, 1, "HF"),
    ]


def test_an_xlsx_workbook_imports_its_first_sheet_with_numeric_cells(coordinator, hefei):
    content = xlsx_bytes(
        [
            HEADER_ZH[:7],
            [1001, "合肥第一中学", "教育", "B", 20000.5, 4, "合肥"],
            [1002, "合肥大药房", "healthcare_pharma", "A", 30000, 5.0, "HF"],
        ]
    )

    report = run(content, coordinator, name="客户清单.XLSX")

    assert report.ok and report.created == 2
    assert list(Customer.objects.values_list("code", "industry", "monthly_value", "potential")) == [
        ("1001", Industry.EDUCATION, Decimal("20000.50"), 4),
        ("1002", Industry.HEALTHCARE_PHARMA, Decimal("30000.00"), 5),
    ]


def test_a_gb18030_csv_as_excel_writes_it_on_chinese_windows_is_read(coordinator, hefei):
    content = csv_bytes(
        [["客户编码", "客户名称", "行业", "区域"], ["GC-020", "合肥交投集团", "交通物流", "合肥"]], "gb18030"
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")

    report = run(content, coordinator)

    assert report.ok
    customer = Customer.objects.get(code="GC-020")
    assert (customer.name, customer.industry) == ("合肥交投集团", Industry.TRANSPORT_LOGISTICS)


def test_unknown_columns_are_ignored_with_a_warning(coordinator, hefei):
    content = csv_bytes(
        [["客户编码", "客户名称", "行业", "区域", "备注"], ["GC-030", "合肥电信", "通信", "合肥", "随便写"]]
    )

    report = run(content, coordinator)

    assert report.ok
    assert report.warnings == ["Column 备注 is not recognised and was ignored."]
    assert Customer.objects.get(code="GC-030").industry == Industry.TELECOM


def test_a_dry_run_of_a_good_file_reports_what_it_would_do_and_changes_nothing(coordinator, hefei):
    CustomerFactory(code="GC-040", name="合肥商场", industry=Industry.RETAIL, tier=Tier.B, region=hefei)
    content = csv_bytes(
        [
            ["code", "name", "industry", "region", "tier"],
            ["GC-040", "", "", "", "A"],
            ["GC-041", "新客户", "零售", "HF", ""],
        ]
    )

    report = run(content, coordinator, dry_run=True)

    assert report.ok and report.dry_run and not report.applied
    assert [(row.code, row.action, row.changes.get("tier")) for row in report.rows] == [
        ("GC-040", "update", ["B", "A"]),
        ("GC-041", "create", None),
    ]
    assert Customer.objects.get(code="GC-040").tier == Tier.B
    assert not Customer.objects.filter(code="GC-041").exists()
    assert not CustomerChange.objects.exists()


# --- bad rows -------------------------------------------------------------------------------------

BAD_ROWS = [
    ["客户编码", "客户名称", "行业", "服务等级", "月均价值贡献", "发展潜力", "区域", "客户经理"],
    ["GC-001", "合肥市政务服务中心", "党政军", "A", "1000", "3", "合肥", "zhangsan"],
    ["GC-002", "合肥矿业", "矿业", "A", "1000", "3", "合肥", ""],
    ["GC-003", "合肥商场", "零售", "D", "1000", "3", "合肥", ""],
    ["GC-004", "合肥银行", "金融", "A", "-5", "3", "合肥", ""],
    ["GC-005", "合肥医院", "医药", "A", "1000", "9", "合肥", ""],
    ["GC-006", "火星基地", "其他", "A", "1000", "3", "火星", ""],
    ["GC-007", "合肥工厂", "制造", "A", "1000", "3", "合肥", "nobody"],
    ["GC-008", "合肥电厂", "电力", "A", "1000", "3", "合肥", "lisi"],
    ["GC-001", "合肥市政务服务中心（重复）", "党政军", "A", "1000", "3", "合肥", ""],
    ["GC-009", "", "教育", "A", "1000", "3", "合肥", ""],
]

BAD_ROW_ERRORS = [
    (2, "GC-001", "create", {}),
    (3, "GC-002", "error", {"industry": ["矿业 is not a known industry."]}),
    (4, "GC-003", "error", {"tier": ["The service tier must be A, B or C, not D."]}),
    (5, "GC-004", "error", {"monthly_value": ["An amount of money cannot be negative (-5)."]}),
    (6, "GC-005", "error", {"potential": ["The potential must be a whole number from 1 to 5, not 9."]}),
    (7, "GC-006", "error", {"region": ["No region has the code or name 火星."]}),
    (8, "GC-007", "error", {"account_manager": ["No user has the username nobody."]}),
    (9, "GC-008", "error", {"account_manager": ["lisi is not an active account manager."]}),
    (10, "GC-001", "error", {"code": ["Customer code GC-001 already appears on line 2."]}),
    (11, "GC-009", "error", {"name": ["Required for a new customer."]}),
]


def test_a_dry_run_reports_every_bad_rows_errors_and_imports_nothing(
    coordinator, hefei, manager, support_engineer
):
    report = run(csv_bytes(BAD_ROWS), coordinator, dry_run=True)

    assert outcome(report) == BAD_ROW_ERRORS
    assert (report.created, report.failed, report.ok, report.applied) == (1, 9, False, False)
    assert nothing_imported()


def test_a_real_run_with_bad_rows_imports_none_of_the_rows_and_reports_the_same_errors(
    coordinator, hefei, manager, support_engineer
):
    report = run(csv_bytes(BAD_ROWS), coordinator)

    assert outcome(report) == BAD_ROW_ERRORS
    assert not report.ok and not report.applied
    assert nothing_imported()


def test_one_bad_row_among_good_ones_keeps_every_row_out(coordinator, hefei):
    existing = CustomerFactory(code="GC-050", tier=Tier.B, region=hefei)
    content = csv_bytes(
        [
            ["code", "name", "industry", "region", "tier"],
            ["GC-050", "", "", "", "A"],
            ["GC-051", "好客户", "金融", "HF", "B"],
            ["GC-052", "坏客户", "金融", "HF", "Z"],
        ]
    )

    report = run(content, coordinator)

    assert [row.action for row in report.rows] == ["update", "create", "error"]
    assert not report.applied
    existing.refresh_from_db()
    assert existing.tier == Tier.B
    assert list(Customer.objects.values_list("code", flat=True)) == ["GC-050"]
    assert not CustomerChange.objects.exists()


def test_a_row_the_model_refuses_reports_the_models_message_for_that_field(coordinator, hefei):
    content = csv_bytes([["code", "name", "industry", "region"], ["G" * 40, "合肥客户", "金融", "HF"]])

    report = run(content, coordinator, dry_run=True)

    assert report.rows[0].errors == {"code": ["Ensure this value has at most 32 characters (it has 40)."]}
    assert nothing_imported()


def test_an_inactive_account_manager_cannot_be_given_a_customer(coordinator, hefei):
    UserFactory(username="wangwu", roles=["account_manager"], is_active=False)
    content = csv_bytes(
        [
            ["code", "name", "industry", "region", "account manager"],
            ["GC-060", "客户", "金融", "HF", "wangwu"],
        ]
    )

    report = run(content, coordinator, dry_run=True)

    assert report.rows[0].errors == {"account_manager": ["wangwu is not an active account manager."]}


# --- updates --------------------------------------------------------------------------------------


def test_updating_existing_customers_changes_only_the_given_fields_and_records_before_and_after(
    coordinator, hefei, wuhu, manager
):
    changed = CustomerFactory(
        code="GC-070",
        name="旧名称",
        industry=Industry.RETAIL,
        tier=Tier.B,
        monthly_value=Decimal("10000"),
        potential=3,
        region=hefei,
        informatization_status="旧系统",
    )
    untouched = CustomerFactory(
        code="GC-071", name="不变客户", industry=Industry.FINANCE, tier=Tier.A, region=hefei
    )
    content = csv_bytes(
        [
            HEADER_ZH,
            ["GC-070", "新名称", "", "", "20,000", "", "芜湖", "zhangsan", ""],
            ["GC-071", "不变客户", "金融", "a", "", "", "合肥", "", ""],
        ]
    )

    report = run(content, coordinator)

    assert report.ok and report.applied
    assert [(row.code, row.action) for row in report.rows] == [("GC-070", "update"), ("GC-071", "unchanged")]
    changed.refresh_from_db()
    assert (changed.name, changed.monthly_value, changed.region, changed.account_manager) == (
        "新名称",
        Decimal("20000"),
        wuhu,
        manager,
    )
    assert (changed.industry, changed.tier, changed.potential, changed.informatization_status) == (
        Industry.RETAIL,
        Tier.B,
        3,
        "旧系统",
    )
    history = CustomerChange.objects.get(customer=changed)
    assert (history.action, history.source, history.actor) == ("updated", "import", coordinator)
    assert history.changes == {
        "name": ["旧名称", "新名称"],
        "monthly_value": ["10000.00", "20000.00"],
        "region": ["合肥", "芜湖"],
        "account_manager": [None, "zhangsan"],
    }
    assert report.rows[0].changes == history.changes
    assert not CustomerChange.objects.filter(customer=untouched).exists()


# --- refused files --------------------------------------------------------------------------------

GOOD_ROWS = [
    ["code", "name", "industry", "region"],
    ["GC-080", "客户甲", "金融", "HF"],
    ["GC-081", "客户乙", "金融", "HF"],
]


def assert_refused(report, message):
    assert report.file_errors == [message]
    assert report.rows == [] and not report.ok and not report.applied
    assert nothing_imported()


def test_a_file_over_the_size_limit_is_refused(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_BYTES": 50}
    content = csv_bytes(GOOD_ROWS)

    assert_refused(
        run(content, coordinator),
        f"customers.csv is {len(content)} bytes; the largest file accepted is 50 bytes.",
    )


def test_a_file_with_more_rows_than_the_limit_is_refused(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_ROWS": 3}
    rows = [GOOD_ROWS[0]] + [[f"GC-{n}", "客户", "金融", "HF"] for n in range(4)]

    assert_refused(
        run(csv_bytes(rows), coordinator),
        "customers.csv has more than 3 customer rows; split it into smaller files.",
    )


def test_blank_rows_do_not_count_towards_the_row_limit(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_ROWS": 2}
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], ["", "", "", ""], [], GOOD_ROWS[2], ["", "", "", ""]]

    report = run(csv_bytes(rows), coordinator)

    assert report.ok
    assert [row.line for row in report.rows] == [2, 5]


def test_bytes_that_are_not_really_an_xlsx_workbook_are_refused(coordinator, hefei):
    assert_refused(
        run(csv_bytes(GOOD_ROWS), coordinator, name="customers.xlsx"),
        "customers.xlsx is not a valid Excel workbook (.xlsx).",
    )
    some_zip = io.BytesIO()
    with zipfile.ZipFile(some_zip, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    assert_refused(
        run(some_zip.getvalue(), coordinator, name="customers.xlsx"),
        "customers.xlsx is not a valid Excel workbook (.xlsx).",
    )


def test_a_workbook_renamed_to_csv_is_refused(coordinator, hefei):
    assert_refused(
        run(xlsx_bytes(GOOD_ROWS), coordinator, name="customers.csv"),
        "customers.csv is not a CSV text file; if it is a workbook, save it as .xlsx.",
    )


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(coordinator, hefei):
    assert_refused(
        run(b"\xd0\xcf\x11\xe0 old workbook", coordinator, name="customers.xls"),
        "customers.xls cannot be imported: save it as a CSV (.csv) or Excel workbook (.xlsx) file.",
    )


def test_a_file_missing_a_required_column_is_refused_and_names_the_column(coordinator, hefei):
    content = csv_bytes([["客户编码", "客户名称", "区域"], ["GC-090", "客户", "合肥"]])

    assert_refused(run(content, coordinator), "The required column 行业 / industry is missing.")


def test_an_empty_file_and_a_header_without_rows_are_refused(coordinator):
    assert_refused(run(b"", coordinator), "customers.csv is empty.")
    assert_refused(
        run(csv_bytes([GOOD_ROWS[0]]), coordinator), "customers.csv has no customer rows below its header."
    )


def test_a_zip_bomb_xlsx_is_refused_before_openpyxl_opens_it(coordinator, hefei, settings, monkeypatch):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_BYTES": 50_000}  # so it may unpack to 1,000,000 bytes
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *args, **kwargs: opened.append(args))
    workbook = zipfile.ZipFile(io.BytesIO(xlsx_bytes(GOOD_ROWS)))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in workbook.infolist():
            sheet = workbook.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                # Whitespace is valid XML: openpyxl would read all of it.
                sheet = sheet.replace(b"</worksheet>", b" " * 2_000_000 + b"</worksheet>")
            archive.writestr(member.filename, sheet)
    content = bomb.getvalue()
    assert len(content) < 50_000

    assert_refused(
        run(content, coordinator, name="customers.xlsx"),
        "customers.xlsx is refused as unsafe: it would unpack to over 1000000 bytes or 1000 parts.",
    )
    assert opened == []


# --- who may import -------------------------------------------------------------------------------


def test_only_a_coordinator_may_import(hefei):
    content = csv_bytes(GOOD_ROWS)
    for roles in (["account_manager"], ["team_leader"], ["leadership"]):
        with pytest.raises(NotPermitted):
            run(content, UserFactory(roles=roles))
    with pytest.raises(NotPermitted):
        run(content, UserFactory(roles=["coordinator"], is_active=False))
    assert nothing_imported()


def test_a_superuser_and_the_system_may_import(hefei):
    assert run(csv_bytes(GOOD_ROWS), UserFactory(is_superuser=True), dry_run=True).ok
    assert run(csv_bytes(GOOD_ROWS), None).applied
    assert CustomerChange.objects.filter(actor=None, source="import").count() == 2


# --- the command ----------------------------------------------------------------------------------


def command(*args) -> str:
    out = io.StringIO()
    call_command("import_customers", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_the_command_imports_the_file_and_prints_each_row_and_a_summary(coordinator, hefei, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))

    output = command(str(path), "--user", "coordinator1")

    assert output.splitlines() == [
        "2\tGC-080\tcreate",
        "3\tGC-081\tcreate",
        "Imported: 2 created, 0 updated, 0 unchanged.",
    ]
    assert CustomerChange.objects.filter(actor=coordinator, source="import").count() == 2


def test_the_command_dry_run_prints_what_would_change_and_imports_nothing(hefei, tmp_path):
    CustomerFactory(code="GC-080", name="旧名", region=hefei)
    path = tmp_path / "customers.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))

    output = command(str(path), "--dry-run")

    assert output.splitlines() == [
        "2\tGC-080\tupdate",
        "\tname: 旧名 -> 客户甲",
        "3\tGC-081\tcreate",
        "Dry run, nothing imported: 1 to create, 1 to update, 0 unchanged, 0 with errors.",
    ]
    assert Customer.objects.get(code="GC-080").name == "旧名"


def test_the_command_prints_the_errors_and_fails_when_a_row_is_bad(coordinator, hefei, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([*GOOD_ROWS, ["GC-082", "客户丙", "矿业", "HF"]]))
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: correct the errors above"):
        call_command("import_customers", str(path), stdout=out, no_color=True)

    assert out.getvalue().splitlines() == [
        "2\tGC-080\tcreate",
        "3\tGC-081\tcreate",
        "4\tGC-082\terror",
        "\tindustry: 矿业 is not a known industry.",
        "Nothing imported: 2 to create, 0 to update, 0 unchanged, 1 with errors.",
    ]
    assert nothing_imported()


def test_the_command_fails_on_a_refused_file_an_unknown_user_or_a_non_coordinator(hefei, tmp_path):
    path = tmp_path / "customers.txt"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_customers", str(path), stdout=out, no_color=True)
    assert out.getvalue().splitlines()[0].startswith("File: customers.txt cannot be imported")

    path = path.with_suffix(".csv")
    path.write_bytes(csv_bytes(GOOD_ROWS))
    with pytest.raises(CommandError, match=r"No user has the username nobody\."):
        command(str(path), "--user", "nobody")
    UserFactory(username="am1", roles=["account_manager"])
    with pytest.raises(CommandError, match=r"You are not allowed to do this\."):
        command(str(path), "--user", "am1")
    with pytest.raises(CommandError, match="Cannot read"):
        command(str(tmp_path / "missing.csv"))
    assert nothing_imported()
