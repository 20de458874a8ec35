"""A review as an XLSX workbook (openpyxl): one sheet per section — its title, the narrative,
then each table with a bold, frozen header row. Figures are real numbers with number formats
(percentages, money in the workspace currency, percentage points), dates are dates; every text
cell and header goes through `serialize.spreadsheet_text` (= + - @ tab CR cannot start a
formula)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from funnelmetrics.i18n.format import locale_of
from funnelmetrics.i18n.gettext import gettext
from funnelmetrics.reports.cells import format_cell, is_missing, period_label, render_sentence
from funnelmetrics.reports.html import TITLES
from funnelmetrics.reports.model import Review, Section, Table
from funnelmetrics.serialize import spreadsheet_text

SHEET_NAME_MAX = 31
FORBIDDEN_IN_SHEET_NAMES = "[]:*?/\\"


def number_format(unit: str, currency: str, lang: str) -> str | None:
    """The Excel number format of a unit (None: the cell is text)."""
    from babel.numbers import get_currency_symbol

    if unit == "currency":
        symbol = get_currency_symbol(currency, locale=locale_of(lang)).replace('"', "")
        digits = "#,##0" if currency in ("IDR", "JPY", "KRW", "VND") else "#,##0.00"
        return f'"{symbol}"{digits};-"{symbol}"{digits}'
    return {"ratio": "0.0%", "relative": "+0.0%;-0.0%", "pp": '+0.0" pp";-0.0" pp"',
            "count": "#,##0", "days": "0.0", "months": "0.0", "score": "0.0",
            "multiple": '0.0"×"', "number": "#,##0.00", "date": "yyyy-mm-dd",
            "currency_per_day": "#,##0.00"}.get(unit)


def sheet_name(title: str, taken: set[str]) -> str:
    name = "".join("_" if ch in FORBIDDEN_IN_SHEET_NAMES else ch for ch in title).strip("'")
    name = name[:SHEET_NAME_MAX] or "Sheet"
    base, n = name, 2
    while name.lower() in taken:
        name = f"{base[:SHEET_NAME_MAX - 3]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def write_xlsx(review: Review, path: Path, lang: str = "en") -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    title = gettext(TITLES[review.kind], lang).format(period=period_label(review.period, lang))
    for section in review.sections:
        ws = wb.create_sheet(sheet_name(gettext(section.title, lang), taken))
        _sheet(ws, review, section, lang, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _sheet(ws: Any, review: Review, section: Section, lang: str, title: str) -> None:
    from openpyxl.styles import Font

    ws.append([spreadsheet_text(f"{title} — {gettext(section.title, lang)}")])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    if section.missing:
        ws.append([spreadsheet_text(gettext(section.missing, lang))])
        return
    for sentence in section.sentences + section.notes:
        ws.append([spreadsheet_text(render_sentence(section, sentence, lang, review.currency))])
    frozen = False
    for table in section.tables:
        if not table.rows:
            continue
        ws.append([])
        ws.append([spreadsheet_text(gettext(table.title, lang))])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        header = _table(ws, review, table, lang)
        if not frozen:  # the first table's header stays in view
            ws.freeze_panes = ws.cell(row=header + 1, column=1)
            frozen = True
    for column in ws.columns:
        letter = column[0].column_letter
        ws.column_dimensions[letter].width = 18 if letter != "A" else 28


def _table(ws: Any, review: Review, table: Table, lang: str) -> int:
    """Write a table; returns its header's row number."""
    from openpyxl.styles import Font

    ws.append([spreadsheet_text(gettext(c.title, lang)) for c in table.columns])
    header = ws.max_row
    for cell in ws[header]:
        cell.font = Font(bold=True)
    for row in table.rows:
        values, formats = [], []
        for c in table.columns:
            value, unit = row.get(c.key), c.unit_of(row)
            fmt = number_format(unit, review.currency, lang)
            if is_missing(value):
                values.append(None)
            elif (fmt is not None and isinstance(value, int | float)) or \
                    (unit == "date" and isinstance(value, dt.date)):
                values.append(value)  # a real number or date, shown by its number format
            else:  # labels, names, metric ids: the text people read
                values.append(spreadsheet_text(format_cell(value, unit, lang, review.currency)))
                fmt = None
            formats.append(fmt)
        ws.append(values)
        for cell, fmt in zip(ws[ws.max_row], formats, strict=False):
            if fmt is not None:
                cell.number_format = fmt
    return header
