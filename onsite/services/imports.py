"""Importing group customers from a CSV or Excel (xlsx) file.

A dry run and a real run take the same path: every row goes through the customer services inside one
transaction, each row in its own savepoint, and the whole transaction is rolled back at the end when
it is a dry run or any row failed. So a dry run reports exactly what a real run would do, and a real
run imports all rows or none. A file that cannot be read safely is refused as a whole, before any row
is looked at.

Reading is bounded in every dimension a small file can blow up: bytes, unpacked bytes and shared
strings of a workbook, lines (blank ones included) and columns. A CSV's encoding is found from the
whole file (onsite.text_encodings) or stated by the user, and the report says which was used.

Cells are data, never formulas: a CSV cell is text, and a workbook is read for the values Excel last
showed (`data_only`), so a formula cell gives its cached result, or nothing if it was never
calculated (a file written by a program that does not calculate). Text starting with `=`, `+`, `-` or
`@` is stored as it is; exports escape it (onsite.spreadsheet_cells).
"""

from __future__ import annotations

import csv
import io
import re
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
from openpyxl.packaging.manifest import Manifest
from openpyxl.xml.constants import SHARED_STRINGS, WORKSHEET_TYPE
from openpyxl.xml.functions import fromstring

from onsite.access import check_role
from onsite.amounts import parse_amount
from onsite.customer_codes import customer_code_key
from onsite.exceptions import ConcurrentChange, InvalidInput, OnsiteError
from onsite.models import Customer, CustomerChange, Industry, Region, Tier
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR
from onsite.services.customers import create_customer, update_customer
from onsite.text_encodings import EncodingUnknown, decode_text
from onsite.thresholds import threshold

Source = CustomerChange.Source

# An xlsx is a zip of XML; a legitimate sheet compresses about tenfold. Anything that would unpack to
# more than this multiple of the largest accepted file is refused before openpyxl opens it.
MAX_EXPANSION = 20
MAX_ZIP_MEMBERS = 1000
# openpyxl streams a worksheet's rows but reads every other part whole when it opens the workbook:
# such a part may unpack to this multiple of the largest file accepted, not more.
MAX_PART_EXPANSION = 2
# Nor may the shared texts outnumber the cells an import reads (openpyxl takes ~8 µs for each).
CONTENT_TYPES = "[Content_Types].xml"
# A prefix longer than this is not counted, but then each text takes over 60 bytes of a bounded part.
SHARED_TEXT = re.compile(rb"<(?:[\w.-]{1,60}:)?si[\s/>]")

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


def column_title(name: str) -> str:
    """The column's header in the reader's language (the file's own two spellings), else the name."""
    titles = COLUMNS.get(name)
    if titles is None:
        return name
    return titles[0] if (translation.get_language() or "").startswith("zh") else titles[1]


REQUIRED_COLUMNS = ("code", "name", "industry", "region")
# Room for the columns people keep beside ours; further columns are ignored with a warning. Without a
# bound, one cell in Excel's last column (XFD) makes every row 16,384 cells wide.
MAX_COLUMNS = 8 * len(COLUMNS)
# Blank lines are skipped without counting as rows, but only so many of them are read: a sheet with a
# cell on its millionth line is not walked a million times.
MAX_LINES_PER_ROW = 10

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
    name: str = ""  # as read from the file, so that a person sees mojibake before it is imported
    errors: dict[str, list[str]] = field(default_factory=dict)
    changes: dict = field(default_factory=dict)  # field: [before, after]


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    encoding: str = ""  # the encoding a CSV file was read in ("UTF-8", "GB18030", ...)

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


def import_customers(
    *, name: str, content: bytes, user: Any, dry_run: bool, encoding: str | None = None
) -> ImportReport:
    """Create or update a customer per row of a .csv or .xlsx file: all rows, or none.

    `encoding` is the CSV file's, when the user states it; otherwise it is found from the bytes."""
    check_role(user, COORDINATOR)
    report = ImportReport(dry_run=dry_run)
    try:
        header, rows = read_table(name, content, report, encoding=encoding)
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


def read_table(
    name: str, content: bytes, report: ImportReport, *, encoding: str | None = None
) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """The header row and the non-blank data rows (line, cells) of the file, at most MAX_COLUMNS wide."""
    limit = threshold("IMPORT_MAX_BYTES")
    if len(content) > limit:
        raise FileRefused(
            _("%(name)s is %(size)s bytes; the largest file accepted is %(limit)s bytes.")
            % {"name": name, "size": len(content), "limit": limit}
        )
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        table = _csv_rows(name, content, encoding, report)
    elif suffix == ".xlsx":
        if encoding:
            report.warnings.append(_("A workbook names its own encoding; the encoding given was not used."))
        table = _xlsx_rows(name, content)
    else:
        raise FileRefused(
            _("%(name)s cannot be imported: save it as a CSV (.csv) or Excel workbook (.xlsx) file.")
            % {"name": name}
        )
    try:
        return _header_and_rows(name, table, report)
    finally:
        table.close()  # an xlsx workbook stays open while its rows are read


def _header_and_rows(
    name: str, table: Iterator, report: ImportReport
) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    header = next(table, None)
    if header is None:
        raise FileRefused(_("%(name)s is empty.") % {"name": name})
    header = _bounded_header(list(header), report)
    max_rows = threshold("IMPORT_MAX_ROWS")
    max_lines = MAX_LINES_PER_ROW * max_rows + 1
    rows = []
    for line, row in enumerate(table, start=2):
        if line > max_lines:
            raise FileRefused(
                _("%(name)s goes on past line %(limit)s; remove its blank lines or split it.")
                % {"name": name, "limit": max_lines}
            )
        cells = row[: len(header)]  # a cell under no title has no column to go to
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
    return header, rows


def _bounded_header(header: list[Any], report: ImportReport) -> list[Any]:
    """The header up to its last title, and no wider than MAX_COLUMNS."""
    width = max((index + 1 for index, cell in enumerate(header) if _text(cell)), default=0)
    if width > MAX_COLUMNS:
        report.warnings.append(
            _("Only the first %(limit)s columns are read; the %(extra)s columns after them were ignored.")
            % {"limit": MAX_COLUMNS, "extra": width - MAX_COLUMNS}
        )
        width = MAX_COLUMNS
    return header[:width]


def _csv_rows(name: str, content: bytes, encoding: str | None, report: ImportReport) -> Iterator[list[str]]:
    not_text = _("%(name)s is not a CSV text file; if it is a workbook, save it as .xlsx.") % {"name": name}
    if content.startswith(BINARY_SIGNATURES):
        raise FileRefused(not_text)
    try:
        decoded = decode_text(content, encoding=encoding)
    except EncodingUnknown as exc:
        raise FileRefused(
            _("%(name)s cannot be read: %(problem)s") % {"name": name, "problem": exc}
        ) from None
    if "\x00" in decoded.text:
        raise FileRefused(not_text)
    report.encoding = decoded.encoding
    text = decoded.text
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise FileRefused(
            _("%(name)s is not a readable CSV file: %(error)s") % {"name": name, "error": exc}
        ) from None


def _xlsx_rows(name: str, content: bytes) -> Iterator[tuple]:
    not_xlsx = _("%(name)s is not a valid Excel workbook (.xlsx).") % {"name": name}
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
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
    _check_parts_read_whole(name, archive, members)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a malformed package; all mean the same here
        raise FileRefused(not_xlsx) from None
    try:
        if not workbook.worksheets:
            raise FileRefused(_("%(name)s has no worksheet.") % {"name": name})
        sheet = workbook.worksheets[0]
        # The size the sheet declares may be wrong either way (openpyxl would drop the rows past it), or
        # huge: the rows themselves are read instead.
        sheet.reset_dimensions()
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        yield header
        # Every row as wide as the header, at most MAX_COLUMNS, however far right its cells lie.
        width = min(max(len(header), 1), MAX_COLUMNS)
        yield from sheet.iter_rows(min_row=2, max_col=width, values_only=True)
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(not_xlsx) from None
    finally:
        workbook.close()


def _check_parts_read_whole(name: str, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Refuse a workbook whose parts openpyxl reads whole are too big, or its shared texts too many."""
    not_xlsx = _("%(name)s is not a valid Excel workbook (.xlsx).") % {"name": name}
    part_limit = MAX_PART_EXPANSION * threshold("IMPORT_MAX_BYTES")
    too_big = _("%(name)s is refused as unsafe: its part %(part)s would unpack to over %(limit)s bytes.")
    sizes = {member.filename: member.file_size for member in members}
    if sizes.get(CONTENT_TYPES, 0) > part_limit:
        raise FileRefused(too_big % {"name": name, "part": CONTENT_TYPES, "limit": part_limit})
    try:
        package = Manifest.from_tree(fromstring(archive.read(CONTENT_TYPES)))
    except Exception:  # missing or malformed: not a workbook, whatever the XML library raised
        raise FileRefused(not_xlsx) from None
    streamed = {part.PartName.lstrip("/") for part in package.findall(WORKSHEET_TYPE)}
    for part, size in sizes.items():
        if part not in streamed and size > part_limit:
            raise FileRefused(too_big % {"name": name, "part": part, "limit": part_limit})
    shared = package.find(SHARED_STRINGS)
    if shared is None or shared.PartName.lstrip("/") not in sizes:
        return
    max_texts = (threshold("IMPORT_MAX_ROWS") + 1) * MAX_COLUMNS
    if _shared_texts(archive, shared.PartName.lstrip("/"), max_texts) > max_texts:
        raise FileRefused(
            _("%(name)s is refused as unsafe: it holds over %(limit)s different texts.")
            % {"name": name, "limit": max_texts}
        )


def _shared_texts(archive: zipfile.ZipFile, part: str, enough: int) -> int:
    """How many texts the shared-strings part holds, counted until there are more than `enough`."""
    texts, tail = 0, b""
    with archive.open(part) as source:
        while texts <= enough and (chunk := source.read(1 << 20)):
            # The window's last bytes are counted with the next chunk, so a tag cut by the chunk's end
            # is counted once.
            window = tail + chunk
            tail = window[-80:]
            texts += len(SHARED_TEXT.findall(window)) - len(SHARED_TEXT.findall(tail))
    return texts + len(SHARED_TEXT.findall(tail))


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
    seen: dict[str, tuple[int, str]] = {}  # code key: line and code as written there
    for line, record in records:
        code = _text(record["code"])
        key = customer_code_key(code)
        errors: dict[str, list[str]] = {}
        customer = lookups.customers.get(key)
        values = _values(record, customer is None, lookups, errors)
        if not code:
            errors["code"] = [_("A customer code is required.")]
        elif key in seen:
            first_line, first_code = seen[key]
            if first_code == code:
                message = _("Customer code %(code)s already appears on line %(line)s.")
            else:
                message = _(
                    "Customer code %(code)s is the same as %(first)s on line %(line)s: codes are compared "
                    "without case or full-width letters."
                )
            errors["code"] = [message % {"code": code, "first": first_code, "line": first_line}]
        else:
            seen[key] = (line, code)
            if customer is None:
                values["code"] = code
            elif customer.code != code:
                # The customer keeps the code it has; the file's spelling only found it.
                report.warnings.append(
                    _("Line %(line)s: customer code %(code)s was read as the existing customer %(existing)s.")
                    % {"line": line, "code": code, "existing": customer.code}
                )
        result = RowResult(line=line, code=code, action="error", name=_text(record.get("name")))
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
    except (IntegrityError, ConcurrentChange) as exc:
        if customer is None and Customer.objects.filter(code_key=customer_code_key(values["code"])).exists():
            # Created by someone else (another import) after this file's customers were looked up.
            errors["code"] = [
                _(
                    "A customer with this code, perhaps written in another case or width, was created "
                    "while this file was being imported."
                )
            ]
        else:
            errors.setdefault("row", []).append(
                _("The database refused this row: %(error)s") % {"error": exc}
            )
    except OnsiteError as exc:
        errors.setdefault("row", []).append(str(exc))


class _Lookups:
    """Everything the rows refer to, read once per file rather than once per row."""

    def __init__(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        keys = {customer_code_key(_text(record["code"])) for _line, record in records} - {""}
        # By code key: `d-1` in the file is the customer `D-1`.
        self.customers = Customer.objects.select_related("region", "account_manager").in_bulk(
            keys, field_name="code_key"
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
