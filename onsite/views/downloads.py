"""A list downloaded as a spreadsheet: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese) streamed row by row, or Excel (`.xlsx`, openpyxl's write-only sheet). Numbers stay
numbers, times are local, and text a spreadsheet would run as a formula is neutralised
(`onsite.spreadsheet_cells`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.spreadsheet_cells import neutralised_cell_text

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    value: str | Callable[[dict], Any]  # a row's key, or what to show from the row
    # On a page: free text wraps (the rest keeps to one line), and the row's link is on its `link`
    # column (its first if none is).
    wide: bool = False
    link: bool = False

    def shown(self, row: dict) -> Any:
        return self.value(row) if callable(self.value) else row.get(self.value)


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers and dates as such (times in local time, without a zone,
    which spreadsheets do not keep), yes/no in words, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, (int, float, Decimal, date)):
        return value
    return neutralised_cell_text(str(value))


def _csv_lines(rows: Iterable[dict], columns: list[Column]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield "\ufeff" + line([str(column.header) for column in columns])
    for row in rows:
        yield line([cell(column.shown(row)) for column in columns])


def spreadsheet_response(
    rows: Iterable[dict], columns: list[Column], *, kind: str, filename: str, sheet: str
) -> HttpResponse | StreamingHttpResponse:
    """`rows` as a download named `filename` (without extension), `kind` "csv" or "xlsx"."""
    if kind == "csv":
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            _csv_lines(rows, columns), content_type=CSV_TYPE
        )
    else:
        response = HttpResponse(_xlsx(rows, columns, sheet=sheet), content_type=XLSX_TYPE)
    name = f"{filename}.{kind}"
    response["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return response


def _xlsx(rows: Iterable[dict], columns: list[Column], *, sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    # Excel refuses sheet titles over 31 characters or with []:*?/\ in them.
    title = "".join(ch for ch in sheet if ch not in "[]:*?/\\")[:31] or "Sheet1"
    worksheet = book.create_sheet(title)
    header = []
    for column in columns:
        value = WriteOnlyCell(worksheet, value=str(column.header))
        value.font = Font(bold=True)
        header.append(value)
    worksheet.append(header)
    for row in rows:
        worksheet.append([cell(column.shown(row)) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
