"""Importing group customers from a CSV or Excel (xlsx) file.

A dry run and a real run take the same path: every row goes through the customer services inside one
transaction, each row in its own savepoint, and the whole transaction is rolled back at the end when
it is a dry run or any row failed. So a dry run reports exactly what a real run would do, and a real
run imports all rows or none. A file that cannot be read safely is refused as a whole, before any row
is looked at.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

import openpyxl
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from onsite.access import check_role
from onsite.amounts import parse_amount
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import Customer, CustomerChange, Industry, Region, Tier
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR
from onsite.services.customers import create_customer, update_customer
from onsite.thresholds import threshold

Source = CustomerChange.Source

# An xlsx is a zip of XML; a legitimate sheet compresses about tenfold. Anything that would unpack to
# more than this multiple of the largest accepted file is refused before openpyxl opens it.
MAX_EXPANSION = 20
MAX_ZIP_MEMBERS = 1000

# Magic numbers of files that are sometimes renamed to .csv: zip (xlsx) and OLE2 (old .xls).
BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")

# Header names each column is known by (compared without case, whitespace, underscores or "*").
COLUMNS = {
    "code": ("客户编码", "code"),
    "name": ("客户名称", "name"),
    "industry": ("行业", "industry"),
    "tier": ("服务等级", "tier"),
    "monthly_value": ("月均价值贡献", "月价值贡献", "monthly value"),
    "potential": ("发展潜力", "potential"),
    "region": ("区域", "region"),
    "account_manager": ("客户经理", "account manager"),
    "informatization_status": ("信息化现状", "informatization status"),
}
REQUIRED_COLUMNS = ("code", "name", "industry", "region")

# Short names people write in spreadsheets, besides the codes and the labels.
INDUSTRY_ALIASES = {
    "党政军": Industry.PARTY_GOVERNMENT_MILITARY,
    "金融": Industry.FINANCE,
    "医药": Industry.HEALTHCARE_PHARMA,
    "医疗": Industry.HEALTHCARE_PHARMA,
    "医疗医药": Industry.HEALTHCARE_PHARMA,
    "教育": Industry.EDUCATION,
    "零售": Industry.RETAIL,
    "旅游": Industry.TOURISM,
    "电力": Industry.POWER_ENERGY,
    "电力能源": Industry.POWER_ENERGY,
    "能源": Industry.POWER_ENERGY,
    "制造": Industry.MANUFACTURING,
    "制造业": Industry.MANUFACTURING,
    "交通物流": Industry.TRANSPORT_LOGISTICS,
    "物流": Industry.TRANSPORT_LOGISTICS,
    "通信": Industry.TELECOM,
    "电信": Industry.TELECOM,
    "其他": Industry.OTHER,
    "其它": Industry.OTHER,
}


@dataclass
class RowResult:
    line: int  # as the user sees it in a spreadsheet: the header is line 1
    code: str
    action: str  # "create" | "update" | "unchanged" | "error"
    errors: dict[str, list[str]] = field(default_factory=dict)
    changes: dict = field(default_factory=dict)  # field: [before, after]


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False

    def _count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self._count("create")

    @property
    def updated(self) -> int:
        return self._count("update")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def failed(self) -> int:
        return self._count("error")

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.failed


class FileRefused(Exception):
    """The file as a whole cannot be imported; the message is for the person who sent it."""


def import_customers(*, name: str, content: bytes, user: Any, dry_run: bool) -> ImportReport:
    """Create or update a customer per row of a .csv or .xlsx file: all rows, or none."""
    check_role(user, COORDINATOR)
    report = ImportReport(dry_run=dry_run)
    try:
        header, rows = read_table(name, content)
        columns = map_columns(header, report)
    except FileRefused as exc:
        report.file_errors.append(str(exc))
        return report
    records = [(line, _record(cells, columns)) for line, cells in rows]
    with transaction.atomic():
        _import_rows(records, user, report)
        report.applied = not dry_run and report.ok
        if not report.applied:
            transaction.set_rollback(True)
    return report


# --- reading the file ------------------------------------------------------------------------------


def read_table(name: str, content: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """The header row and the non-blank data rows (line, cells) of the file."""
    limit = threshold("IMPORT_MAX_BYTES")
    if len(content) > limit:
        raise FileRefused(
            _("%(name)s is %(size)s bytes; the largest file accepted is %(limit)s bytes.")
            % {"name": name, "size": len(content), "limit": limit}
        )
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        table = _csv_rows(name, content)
    elif suffix == ".xlsx":
        table = _xlsx_rows(name, content)
    else:
        raise FileRefused(
            _("%(name)s cannot be imported: save it as a CSV (.csv) or Excel workbook (.xlsx) file.")
            % {"name": name}
        )
    try:
        return _header_and_rows(name, table)
    finally:
        table.close()  # an xlsx workbook stays open while its rows are read


def _header_and_rows(name: str, table: Iterator) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    header = next(table, None)
    if header is None:
        raise FileRefused(_("%(name)s is empty.") % {"name": name})
    max_rows = threshold("IMPORT_MAX_ROWS")
    rows = []
    for line, cells in enumerate(table, start=2):
        if all(_text(cell) == "" for cell in cells):
            continue
        if len(rows) == max_rows:
            raise FileRefused(
                _("%(name)s has more than %(limit)s customer rows; split it into smaller files.")
                % {"name": name, "limit": max_rows}
            )
        rows.append((line, list(cells)))
    if not rows:
        raise FileRefused(_("%(name)s has no customer rows below its header.") % {"name": name})
    return list(header), rows


def _csv_rows(name: str, content: bytes) -> Iterator[list[str]]:
    if content.startswith(BINARY_SIGNATURES) or b"\x00" in content:
        raise FileRefused(
            _("%(name)s is not a CSV text file; if it is a workbook, save it as .xlsx.") % {"name": name}
        )
    # Excel writes UTF-8 with a BOM ("CSV UTF-8"), or GB18030 on Chinese Windows ("CSV").
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused(
            _('%(name)s is neither UTF-8 nor GB18030 text; save it as "CSV UTF-8".') % {"name": name}
        )
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise FileRefused(
            _("%(name)s is not a readable CSV file: %(error)s") % {"name": name, "error": exc}
        ) from None


def _xlsx_rows(name: str, content: bytes) -> Iterator[tuple]:
    not_xlsx = _("%(name)s is not a valid Excel workbook (.xlsx).") % {"name": name}
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise FileRefused(not_xlsx) from None
    # Decompression stops at each member's declared size, so the declared sizes bound the work.
    expanded = sum(member.file_size for member in members)
    expansion_limit = MAX_EXPANSION * threshold("IMPORT_MAX_BYTES")
    if len(members) > MAX_ZIP_MEMBERS or expanded > expansion_limit:
        raise FileRefused(
            _("%(name)s is refused as unsafe: it would unpack to over %(limit)s bytes or %(members)s parts.")
            % {"name": name, "limit": expansion_limit, "members": MAX_ZIP_MEMBERS}
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a malformed package; all mean the same here
        raise FileRefused(not_xlsx) from None
    try:
        if not workbook.worksheets:
            raise FileRefused(_("%(name)s has no worksheet.") % {"name": name})
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(not_xlsx) from None
    finally:
        workbook.close()


def map_columns(header: list[Any], report: ImportReport) -> dict[str, int]:
    """field: column index; unknown columns become warnings, missing required ones refuse the file."""
    known = {_header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        title = _text(cell)
        if not title:
            continue
        name = known.get(_header_key(title))
        if name is None:
            report.warnings.append(
                _("Column %(column)s is not recognised and was ignored.") % {"column": title}
            )
        elif name in columns:
            raise FileRefused(_("Column %(column)s appears more than once.") % {"column": title})
        else:
            columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise FileRefused(
            " ".join(
                _("The required column %(column)s is missing.") % {"column": " / ".join(COLUMNS[name])}
                for name in missing
            )
        )
    return columns


def _header_key(title: str) -> str:
    return "".join(title.split()).replace("_", "").strip("*").casefold()


def _record(cells: list[Any], columns: dict[str, int]) -> dict[str, Any]:
    return {name: cells[index] if index < len(cells) else None for name, index in columns.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


# --- importing the rows ----------------------------------------------------------------------------


class _RowRolledBack(Exception):
    """Undoes a row the services accepted although one of its cells was refused."""


def _import_rows(records: list[tuple[int, dict[str, Any]]], user: Any, report: ImportReport) -> None:
    lookups = _Lookups(records)
    seen: dict[str, int] = {}
    for line, record in records:
        code = _text(record["code"])
        errors: dict[str, list[str]] = {}
        customer = lookups.customers.get(code)
        values = _values(record, customer is None, lookups, errors)
        if not code:
            errors["code"] = [_("A customer code is required.")]
        elif code in seen:
            errors["code"] = [
                _("Customer code %(code)s already appears on line %(line)s.")
                % {"code": code, "line": seen[code]}
            ]
        else:
            seen[code] = line
            values["code"] = code
        result = RowResult(line=line, code=code, action="error")
        if "code" not in errors:
            _write(result, customer, values, errors, user)
        if errors:
            result.action, result.errors, result.changes = "error", errors, {}
        report.rows.append(result)


def _write(
    result: RowResult, customer: Customer | None, values: dict, errors: dict[str, list[str]], user: Any
) -> None:
    """Run the row through the services in a savepoint, kept only if the row has no error at all.

    The service runs even when some cells were refused, so that one pass reports every problem."""
    try:
        with transaction.atomic():
            if customer is None:
                created = create_customer(values=values, user=user, source=Source.IMPORT)
                result.action, result.changes = "create", created.changes.get().changes
            else:
                changes = update_customer(customer=customer, values=values, user=user, source=Source.IMPORT)
                result.action, result.changes = ("update" if changes else "unchanged"), changes
            if errors:
                raise _RowRolledBack
    except _RowRolledBack:
        pass
    except InvalidInput as exc:
        for name, messages in exc.errors.items():
            # A refused cell was left out of the values; what the model says about it adds nothing.
            key = "row" if name == NON_FIELD_ERRORS else name
            errors.setdefault(key, messages)
    except OnsiteError as exc:
        errors.setdefault("row", []).append(str(exc))
    except IntegrityError as exc:
        errors.setdefault("row", []).append(_("The database refused this row: %(error)s") % {"error": exc})


class _Lookups:
    """Everything the rows refer to, read once per file rather than once per row."""

    def __init__(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        codes = {_text(record["code"]) for _line, record in records} - {""}
        self.customers = Customer.objects.select_related("region", "account_manager").in_bulk(
            codes, field_name="code"
        )
        self.regions_by_code: dict[str, Region] = {}
        self.regions_by_name: dict[str, list[Region]] = {}
        for region in Region.objects.all():
            self.regions_by_code[region.code.casefold()] = region
            self.regions_by_name.setdefault(region.name.strip().casefold(), []).append(region)
        usernames = {_text(record.get("account_manager")) for _line, record in records} - {""}
        users = get_user_model().objects.filter(username__in=usernames)
        self.usernames = set(users.values_list("username", flat=True))
        self.managers = {
            manager.username: manager
            for manager in users.filter(is_active=True, groups__name=ACCOUNT_MANAGER).distinct()
        }
        self.industries = _industry_names()


def _industry_names() -> dict[str, str]:
    names = {_key(alias): code for alias, code in INDUSTRY_ALIASES.items()}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.update({_key(str(label)): code for code, label in Industry.choices})
    names.update({_key(code): code for code in Industry.values})
    return names


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


def _values(
    record: dict[str, Any], creating: bool, lookups: _Lookups, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The row's non-empty cells as service values; a cell that cannot be read goes to `errors`."""
    values: dict[str, Any] = {}
    for name, cell in record.items():
        if name == "code":
            continue
        text = _text(cell)
        if not text:
            if creating and name in REQUIRED_COLUMNS:
                errors[name] = [_("Required for a new customer.")]
            continue
        try:
            values[name] = PARSERS[name](text, lookups)
        except InvalidInput as exc:
            errors.update(exc.errors)
    return values


def _refuse(name: str, message: str) -> InvalidInput:
    return InvalidInput({name: [message]})


def _as_text(text: str, lookups: _Lookups) -> str:
    return text


def _industry(text: str, lookups: _Lookups) -> str:
    industry = lookups.industries.get(_key(text))
    if industry is None:
        raise _refuse("industry", _("%(value)s is not a known industry.") % {"value": text})
    return industry


def _tier(text: str, lookups: _Lookups) -> str:
    tier = text.upper()
    if tier not in Tier.values:
        raise _refuse("tier", _("The service tier must be A, B or C, not %(value)s.") % {"value": text})
    return tier


def _monthly_value(text: str, lookups: _Lookups) -> Decimal:
    return parse_amount(text, field="monthly_value")


def _potential(text: str, lookups: _Lookups) -> int:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if (
        number is None
        or not number.is_finite()
        or number != number.to_integral_value()
        or not 1 <= number <= 5
    ):
        raise _refuse(
            "potential",
            _("The potential must be a whole number from 1 to 5, not %(value)s.") % {"value": text},
        )
    return int(number)


def _region(text: str, lookups: _Lookups) -> Region:
    region = lookups.regions_by_code.get(text.casefold())
    if region is not None:
        return region
    named = lookups.regions_by_name.get(text.casefold(), [])
    if len(named) > 1:
        raise _refuse(
            "region", _("Several regions are named %(value)s; give the region code.") % {"value": text}
        )
    if not named:
        raise _refuse("region", _("No region has the code or name %(value)s.") % {"value": text})
    return named[0]


def _account_manager(text: str, lookups: _Lookups) -> Any:
    manager = lookups.managers.get(text)
    if manager is not None:
        return manager
    if text in lookups.usernames:
        raise _refuse("account_manager", _("%(value)s is not an active account manager.") % {"value": text})
    raise _refuse("account_manager", _("No user has the username %(value)s.") % {"value": text})


PARSERS = {
    "name": _as_text,
    "industry": _industry,
    "tier": _tier,
    "monthly_value": _monthly_value,
    "potential": _potential,
    "region": _region,
    "account_manager": _account_manager,
    "informatization_status": _as_text,
}
