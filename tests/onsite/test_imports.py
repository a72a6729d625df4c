"""Importing group customers from CSV and Excel files: a dry run reports every row's errors, a real run
imports all rows or none, and a file that cannot be read safely is refused as a whole."""

import csv
import io
import time
import tracemalloc
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
from workflows.actors import SYSTEM

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
    assert run(csv_bytes(GOOD_ROWS), SYSTEM).applied
    assert CustomerChange.objects.filter(actor=None, source="import").count() == 2


# --- the command ----------------------------------------------------------------------------------


def command(*args) -> str:
    out = io.StringIO()
    call_command("import_customers", *args, stdout=out, no_color=True, language="en")
    return out.getvalue()


def test_the_command_imports_the_file_and_prints_each_row_and_a_summary(coordinator, hefei, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))

    output = command(str(path), "--user", "coordinator1")

    assert output.splitlines() == [
        "Read as UTF-8 text.",
        "2\tGC-080\tcreate\t客户甲",
        "3\tGC-081\tcreate\t客户乙",
        "Imported: 2 created, 0 updated, 0 unchanged.",
    ]
    assert CustomerChange.objects.filter(actor=coordinator, source="import").count() == 2


def test_the_command_dry_run_prints_what_would_change_and_imports_nothing(hefei, tmp_path):
    CustomerFactory(code="GC-080", name="旧名", region=hefei)
    path = tmp_path / "customers.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))

    output = command(str(path), "--dry-run")

    assert output.splitlines() == [
        "2\tGC-080\tupdate\t客户甲",
        "\tname: 旧名 -> 客户甲",
        "3\tGC-081\tcreate\t客户乙",
        "Dry run, nothing imported: 1 to create, 1 to update, 0 unchanged, 0 with errors.",
    ]
    assert Customer.objects.get(code="GC-080").name == "旧名"


def test_the_command_prints_the_errors_and_fails_when_a_row_is_bad(coordinator, hefei, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([*GOOD_ROWS, ["GC-082", "客户丙", "矿业", "HF"]]))
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: correct the errors above"):
        call_command("import_customers", str(path), stdout=out, no_color=True, language="en")

    assert out.getvalue().splitlines() == [
        "Read as UTF-8 text.",
        "2\tGC-080\tcreate\t客户甲",
        "3\tGC-081\tcreate\t客户乙",
        "4\tGC-082\terror\t客户丙",
        "\tindustry: 矿业 is not a known industry.",
        "Nothing imported: 2 to create, 0 to update, 0 unchanged, 1 with errors.",
    ]
    assert nothing_imported()


def test_the_command_names_a_bad_rows_columns_by_their_chinese_headers_by_default(
    coordinator, hefei, tmp_path
):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([*GOOD_ROWS, ["GC-082", "客户丙", "矿业", "HF"]]))
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_customers", str(path), stdout=out, no_color=True)

    assert "\t行业: “矿业”不是可识别的行业。" in out.getvalue().splitlines()


def test_the_command_fails_on_a_refused_file_an_unknown_user_or_a_non_coordinator(hefei, tmp_path):
    path = tmp_path / "customers.txt"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_customers", str(path), stdout=out, no_color=True, language="en")
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


# --- encodings ------------------------------------------------------------------------------------

# Chinese names whose GB18030 bytes are valid UTF-8 too: read as UTF-8 they are mojibake (山木实业 →
# ɽľʵҵ), which is how such a file was once imported without a warning.
GB18030_VALID_AS_UTF8 = ["山木实业", "医院", "学校", "证券", "山水"]
# And Chinese names whose UTF-8 bytes are valid GB18030 (中文 → 涓枃).
UTF8_VALID_AS_GB18030 = ["中文", "中国移动", "政务", "银行", "集团", "电力公司"]


def names_file(names, encoding):
    """English headers and codes, so that the names alone decide what the bytes can be."""
    return csv_bytes(
        [GOOD_ROWS[0], *([f"GC-{n}", name, "finance", "HF"] for n, name in enumerate(names))], encoding
    )


def imported_names():
    return list(Customer.objects.order_by("code").values_list("name", flat=True))


def test_a_gb18030_file_whose_bytes_are_also_valid_utf8_is_read_as_gb18030(coordinator, hefei):
    for name in GB18030_VALID_AS_UTF8:
        assert name.encode("gb18030").decode("utf-8") != name
    content = names_file(GB18030_VALID_AS_UTF8, "gb18030")
    assert content.decode("utf-8")  # valid UTF-8 as a whole

    report = run(content, coordinator)

    assert report.ok and report.encoding == "GB18030"
    assert imported_names() == GB18030_VALID_AS_UTF8
    assert [row.name for row in report.rows] == GB18030_VALID_AS_UTF8


@pytest.mark.parametrize("name", GB18030_VALID_AS_UTF8)
def test_a_single_gb18030_name_valid_as_utf8_is_read_as_gb18030(coordinator, hefei, name):
    report = run(names_file([name], "gb18030"), coordinator, dry_run=True)

    assert report.ok and report.encoding == "GB18030"
    assert [row.name for row in report.rows] == [name]


def test_utf8_chinese_whose_bytes_are_also_valid_gb18030_is_read_as_utf8(coordinator, hefei):
    content = names_file(UTF8_VALID_AS_GB18030, "utf-8")
    assert content.decode("gb18030")  # valid GB18030 as a whole, and reads as Chinese characters

    report = run(content, coordinator)

    assert report.ok and report.encoding == "UTF-8"
    assert imported_names() == UTF8_VALID_AS_GB18030


@pytest.mark.parametrize(
    ("encoding", "bom", "read_as"),
    [
        ("utf-8", b"\xef\xbb\xbf", "UTF-8"),
        ("gb18030", b"\x84\x31\x95\x33", "GB18030"),
        ("utf-16-le", b"\xff\xfe", "UTF-16"),
    ],
)
def test_a_byte_order_mark_decides_the_encoding(coordinator, hefei, encoding, bom, read_as):
    # 山木实业 in GB18030 would be read as GB18030 without a mark; the UTF-8 mark says otherwise.
    names = ["山木实业", "合肥交投集团"]
    content = bom + names_file(names, encoding)

    report = run(content, coordinator)

    assert report.ok and report.encoding == read_as
    assert imported_names() == names
    assert Customer.objects.filter(code="GC-0").exists()  # the mark is not part of the first header


def test_a_utf8_mark_in_front_of_gb18030_bytes_reads_them_as_utf8_as_stated(coordinator, hefei):
    content = b"\xef\xbb\xbf" + names_file(["山木实业"], "gb18030")

    report = run(content, coordinator, dry_run=True)

    assert report.encoding == "UTF-8"
    assert [row.name for row in report.rows] == ["ɽľʵҵ"]  # visible in the dry run before importing


def test_gb18030_that_is_not_valid_utf8_and_ascii_only_files_are_read(coordinator, hefei):
    content = names_file(["合肥交投集团"], "gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    report = run(content, coordinator)
    assert report.ok and report.encoding == "GB18030"

    report = run(csv_bytes([GOOD_ROWS[0], ["GC-100", "Hefei Bank", "finance", "HF"]], "ascii"), coordinator)
    assert report.ok and report.encoding == "UTF-8"
    assert imported_names() == ["合肥交投集团", "Hefei Bank"]


def test_the_encoding_is_found_from_the_whole_file_not_its_start(coordinator, hefei):
    # 100 KB of ASCII rows first: a look at the start only would call this file UTF-8.
    rows = [[f"GC-{n:05d}", f"Customer {n}", "finance", "HF", "x" * 2000] for n in range(50)]
    content = csv_bytes(
        [[*GOOD_ROWS[0], "notes"], *rows, ["GC-99999", "山木实业", "finance", "HF", ""]], "gb18030"
    )
    assert content[:100_000].isascii()

    report = run(content, coordinator, dry_run=True)

    assert report.ok and report.encoding == "GB18030"
    assert report.rows[-1].name == "山木实业"


def test_a_file_that_reads_sensibly_in_both_encodings_is_refused_until_its_encoding_is_stated(
    coordinator, hefei
):
    # "Ŀ" (UTF-8) or "目" (GB18030): a Latin letter or a hanzi, nothing tells which was meant.
    content = names_file(["目"], "gb18030")
    assert content.decode("utf-8").endswith("Ŀ,finance,HF\r\n")

    assert_refused(
        run(content, coordinator),
        "customers.csv cannot be read: The file reads as valid text both in UTF-8 and in GB18030 and it "
        'cannot be told which is meant (for example "GC-0,Ŀ,finance,HF" or "GC-0,目,finance,HF"); '
        "state the encoding.",
    )

    report = import_customers(
        name="customers.csv", content=content, user=coordinator, dry_run=False, encoding="gb18030"
    )
    assert report.ok and report.encoding == "GB18030"
    assert imported_names() == ["目"]


def test_a_stated_encoding_that_does_not_fit_or_does_not_exist_is_refused(coordinator, hefei):
    content = names_file(["合肥交投集团"], "gb18030")
    for encoding, message in [
        ("utf-8", "customers.csv cannot be read: The file is not valid UTF-8 text (byte 32)."),
        ("klingon", "customers.csv cannot be read: klingon is not an encoding this system knows."),
    ]:
        report = import_customers(
            name="customers.csv", content=content, user=coordinator, dry_run=False, encoding=encoding
        )
        assert_refused(report, message)


def test_a_file_in_neither_encoding_is_refused(coordinator, hefei):
    assert_refused(
        run(GOOD_ROWS[0][0].encode() + b",\xff\xfe\xfd\n", coordinator),
        "customers.csv cannot be read: The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8.",
    )


def test_the_command_dry_run_shows_the_encoding_and_the_decoded_names(hefei, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(names_file(["山木实业", "医院"], "gb18030"))

    assert command(str(path), "--dry-run").splitlines() == [
        "Read as GB18030 text.",
        "2\tGC-0\tcreate\t山木实业",
        "3\tGC-1\tcreate\t医院",
        "Dry run, nothing imported: 2 to create, 0 to update, 0 unchanged, 0 with errors.",
    ]
    assert command(str(path), "--dry-run", "--encoding", "utf-8").splitlines()[:3] == [
        "Read as UTF-8 text.",
        "2\tGC-0\tcreate\tɽľʵҵ",
        "3\tGC-1\tcreate\tҽԺ",
    ]
    assert nothing_imported()


# --- workbooks built to be expensive --------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
CONTENT_TYPES = "[Content_Types].xml"


def inline_cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_row(line, cells):
    """cells: {column letters: text}."""
    return (
        f'<row r="{line}">'
        + "".join(inline_cell(f"{col}{line}", text) for col, text in cells.items())
        + "</row>"
    )


def crafted_xlsx(sheet_rows, *, dimension="A1", extra_parts=None, content_types=""):
    """A real workbook whose first sheet's XML is given, as another program (or an attacker) may write it."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["placeholder"]])))
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == SHEET:
                data = sheet.encode()
            elif member.filename == CONTENT_TYPES:
                data = data.replace(b"</Types>", content_types.encode() + b"</Types>")
            archive.writestr(member.filename, data)
        for part, data in (extra_parts or {}).items():
            archive.writestr(part, data)
    return out.getvalue()


HEADER_CELLS = {"A": "code", "B": "name", "C": "industry", "D": "region"}


def bounded_run(content, user):
    """The import's report, seconds and peak of Python memory in bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        report = run(content, user, name="customers.xlsx", dry_run=True)
        return report, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_rows_with_one_cell_in_the_last_column_are_read_in_bounded_time_and_memory(coordinator, hefei):
    # Each row's only cell is in column XFD (16,384): openpyxl would make every row 16,384 cells wide,
    # 12 s and 700 MB for 27 KB before the columns read were bounded.
    good = [sheet_row(2, {"A": "GC-1", "B": "客户甲", "C": "finance", "D": "HF"})]
    hostile = [sheet_row(line, {"XFD": "x"}) for line in range(3, 3003)]
    content = crafted_xlsx([sheet_row(1, HEADER_CELLS), *good, *hostile], dimension="A1:XFD3002")
    assert len(content) < 40_000

    report, seconds, peak = bounded_run(content, coordinator)

    assert report.ok and [(row.code, row.action) for row in report.rows] == [("GC-1", "create")]
    assert seconds < 5, seconds
    assert peak < 50_000_000, peak


def test_a_title_beyond_the_columns_read_is_ignored_with_a_warning(coordinator, hefei):
    header = {**HEADER_CELLS, "XFD": "notes"}
    content = crafted_xlsx(
        [
            sheet_row(1, header),
            sheet_row(2, {"A": "GC-1", "B": "客户甲", "C": "finance", "D": "HF", "XFD": "x"}),
        ]
    )

    report, seconds, _peak = bounded_run(content, coordinator)

    assert report.ok and report.created == 1 and seconds < 5
    assert report.warnings == [
        "Only the first 72 columns are read; the 16312 columns after them were ignored."
    ]


def test_a_sheet_declaring_fewer_rows_than_it_has_is_read_to_its_last_row(coordinator, hefei):
    rows = [
        sheet_row(line, {"A": f"GC-{line}", "B": "客户", "C": "finance", "D": "HF"}) for line in (2, 3, 4)
    ]

    report = run(
        crafted_xlsx([sheet_row(1, HEADER_CELLS), *rows], dimension="A1:D2"), coordinator, name="c.xlsx"
    )

    assert [row.code for row in report.rows] == ["GC-2", "GC-3", "GC-4"]


def test_a_cell_on_the_sheets_last_line_is_refused_without_walking_a_million_blank_lines(coordinator, hefei):
    rows = [
        sheet_row(1, HEADER_CELLS),
        sheet_row(2, {"A": "GC-1", "B": "客户甲", "C": "finance", "D": "HF"}),
        sheet_row(1_048_576, {"A": "GC-2", "B": "客户乙", "C": "finance", "D": "HF"}),
    ]

    report, seconds, peak = bounded_run(crafted_xlsx(rows), coordinator)

    assert_refused(report, "customers.xlsx goes on past line 50001; remove its blank lines or split it.")
    assert seconds < 5 and peak < 50_000_000


def test_a_csv_of_blank_lines_is_refused_at_the_line_limit(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_ROWS": 10}
    content = csv_bytes(GOOD_ROWS) + b"\r\n" * 200 + csv_bytes([GOOD_ROWS[1]])

    assert_refused(
        run(content, coordinator), "customers.csv goes on past line 101; remove its blank lines or split it."
    )


SHARED_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def shared_strings(texts):
    return (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{text}</t></si>" for text in texts)
        + "</sst>"
    )


def test_shared_texts_are_read_when_they_fit_the_bounds(coordinator, hefei):
    rows = [
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
        '<c r="D1" t="s"><v>3</v></c></row>',
        '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" t="s"><v>7</v></c>'
        '<c r="D2" t="s"><v>6</v></c></row>',
    ]
    texts = ["code", "name", "industry", "region", "GC-1", "客户甲", "HF", "finance"]
    content = crafted_xlsx(
        rows, extra_parts={"xl/sharedStrings.xml": shared_strings(texts)}, content_types=SHARED_STRINGS_TYPE
    )

    report = run(content, coordinator, name="customers.xlsx")

    assert report.ok and Customer.objects.get(code="GC-1").name == "客户甲"


def test_more_shared_texts_than_the_cells_an_import_reads_are_refused_before_openpyxl_opens_it(
    coordinator, hefei, settings, monkeypatch
):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_ROWS": 10}  # so 11 lines × 72 columns = 792 texts
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *args, **kwargs: opened.append(args))
    # Prefixed tags are the same elements to an XML reader, and are counted too.
    texts = (
        '<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "<x:si><x:t>a</x:t></x:si>" * 793
        + "</x:sst>"
    )
    content = crafted_xlsx(
        [sheet_row(1, HEADER_CELLS)],
        extra_parts={"xl/sharedStrings.xml": texts},
        content_types=SHARED_STRINGS_TYPE,
    )

    assert_refused(
        run(content, coordinator, name="customers.xlsx"),
        "customers.xlsx is refused as unsafe: it holds over 792 different texts.",
    )
    assert opened == []


def test_a_part_openpyxl_reads_whole_may_not_unpack_beyond_its_bound(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_BYTES": 50_000}  # parts read whole: 100,000 bytes
    long_text = shared_strings(["x" * 200_000])  # one text, but 200 KB of it
    content = crafted_xlsx(
        [sheet_row(1, HEADER_CELLS)],
        extra_parts={"xl/sharedStrings.xml": long_text},
        content_types=SHARED_STRINGS_TYPE,
    )
    assert len(content) < 50_000

    assert_refused(
        run(content, coordinator, name="customers.xlsx"),
        "customers.xlsx is refused as unsafe: its part xl/sharedStrings.xml would unpack to over "
        "100000 bytes.",
    )


def test_a_big_worksheet_is_streamed_so_only_its_rows_are_bounded(coordinator, hefei, settings):
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_BYTES": 50_000}
    rows = [sheet_row(1, {**HEADER_CELLS, "E": "notes"})] + [
        sheet_row(line, {"A": f"GC-{line}", "B": "客户", "C": "finance", "D": "HF", "E": "备注" * 300})
        for line in range(2, 102)
    ]
    content = crafted_xlsx(rows)
    assert zipfile.ZipFile(io.BytesIO(content)).getinfo(SHEET).file_size > 100_000

    report = run(content, coordinator, name="customers.xlsx", dry_run=True)

    assert report.ok and report.created == 100


# --- customer codes -------------------------------------------------------------------------------


def test_codes_differing_only_in_case_or_width_in_one_file_are_one_customer_and_the_repeats_refused(
    coordinator, hefei
):
    content = csv_bytes(
        [
            GOOD_ROWS[0],
            ["D-1", "客户甲", "finance", "HF"],
            ["d-1", "客户甲", "finance", "HF"],
            ["Ｄ－１", "客户甲", "finance", "HF"],
            [" D-1 ", "客户甲", "finance", "HF"],
        ]
    )

    report = run(content, coordinator)

    same = "Customer code %s is the same as D-1 on line 2: codes are compared without case or full-width letters."
    assert outcome(report) == [
        (2, "D-1", "create", {}),
        (3, "d-1", "error", {"code": [same % "d-1"]}),
        (4, "Ｄ－１", "error", {"code": [same % "Ｄ－１"]}),
        (5, "D-1", "error", {"code": ["Customer code D-1 already appears on line 2."]}),
    ]
    assert nothing_imported()


def test_a_code_written_in_another_case_or_width_updates_the_existing_customer_and_keeps_its_code(
    coordinator, hefei
):
    existing = CustomerFactory(code="GC-200", name="旧名", region=hefei)
    content = csv_bytes([GOOD_ROWS[0], ["ｇｃ－２００", "新名", "", ""]])

    report = run(content, coordinator)

    assert [(row.code, row.action, row.changes) for row in report.rows] == [
        ("ｇｃ－２００", "update", {"name": ["旧名", "新名"]})
    ]
    assert report.warnings == ["Line 2: customer code ｇｃ－２００ was read as the existing customer GC-200."]
    existing.refresh_from_db()
    assert (existing.code, existing.name) == ("GC-200", "新名")
    assert Customer.objects.count() == 1


def test_the_database_refuses_a_second_customer_whose_code_differs_only_in_case_or_width(hefei):
    from django.db import IntegrityError, transaction

    from onsite.customer_codes import customer_code_key

    CustomerFactory(code="D-1", region=hefei)
    for code in ("d-1", "Ｄ-1"):
        with pytest.raises(IntegrityError), transaction.atomic():
            # Past every check in Python, as two imports at the same moment would be.
            CustomerFactory(code=code, code_key=customer_code_key(code), region=hefei)
    assert list(Customer.objects.values_list("code", "code_key")) == [("D-1", "d-1")]


def test_a_row_created_by_another_import_meanwhile_is_reported_on_its_code(coordinator, hefei, monkeypatch):
    from onsite.services import imports

    real_lookups = imports._Lookups

    class LookupsThenAnotherImport(real_lookups):
        def __init__(self, records):
            super().__init__(records)
            CustomerFactory(code="D-1", region=hefei)  # committed by another import after the look-up

    monkeypatch.setattr(imports, "_Lookups", LookupsThenAnotherImport)
    monkeypatch.setattr(Customer, "validate_unique", lambda self, exclude=None: None)  # its check raced too

    report = run(csv_bytes([GOOD_ROWS[0], ["d-1", "客户甲", "finance", "HF"]]), coordinator)

    assert outcome(report) == [
        (
            2,
            "d-1",
            "error",
            {
                "code": [
                    "A customer with this code, perhaps written in another case or width, was created while "
                    "this file was being imported."
                ]
            },
        )
    ]


def test_existing_codes_get_their_key_and_clashing_ones_stop_the_migration(hefei):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("onsite.migrations.0005_customer_code_key")
    first = CustomerFactory(code="Ｄ-1", code_key="stale-1", region=hefei)
    CustomerFactory(code="E-2", code_key="stale-2", region=hefei)

    migration.fill_code_keys(apps, None)

    assert dict(Customer.objects.values_list("code", "code_key")) == {"Ｄ-1": "d-1", "E-2": "e-2"}
    CustomerFactory(code="d-1", code_key="stale-3", region=hefei)
    with pytest.raises(RuntimeError, match="merge or recode them, then migrate again: d-1 / Ｄ-1"):
        migration.fill_code_keys(apps, None)
    first.refresh_from_db()
    assert first.code_key == "d-1"


# --- formulas -------------------------------------------------------------------------------------


def test_text_that_looks_like_a_formula_is_stored_as_it_was_given(coordinator, hefei):
    names = [
        '=HYPERLINK("http://evil","点我")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "=cmd|' /C calc'!A0",
    ]
    rows = [[f"GC-{n}", name, "finance", "HF"] for n, name in enumerate(names)]

    report = run(csv_bytes([GOOD_ROWS[0], *rows]), coordinator)

    assert report.ok
    assert imported_names() == names


def test_an_xlsx_formula_gives_the_value_excel_showed_never_the_formula_or_its_evaluation(coordinator, hefei):
    row = (
        '<row r="2">'
        + inline_cell("A2", "GC-1")
        + '<c r="B2" t="str"><f>CONCAT("合肥","银行")</f><v>合肥银行</v></c>'
        + inline_cell("C2", "finance")
        + inline_cell("D2", "HF")
        + "</row>"
    )
    uncalculated = (
        '<row r="3">'
        + inline_cell("A3", "GC-2")
        + '<c r="B3"><f>1+1</f></c>'
        + inline_cell("C3", "finance")
        + inline_cell("D3", "HF")
        + "</row>"
    )
    content = crafted_xlsx([sheet_row(1, HEADER_CELLS), row, uncalculated])

    report = run(content, coordinator, name="customers.xlsx", dry_run=True)

    assert [(row.code, row.name, row.action) for row in report.rows] == [
        ("GC-1", "合肥银行", "create"),
        ("GC-2", "", "error"),  # never calculated: no value, so no name
    ]


@pytest.mark.parametrize(
    ("text", "exported"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("＝1+1", "'＝1+1"),
        ("合肥银行", "合肥银行"),
        ("GC-001", "GC-001"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_exports_neutralise_text_a_spreadsheet_would_read_as_a_formula(text, exported):
    from onsite.spreadsheet_cells import neutralised_cell_text

    assert neutralised_cell_text(text) == exported
