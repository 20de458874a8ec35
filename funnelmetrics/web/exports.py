"""Results as downloadable CSV or XLSX (openpyxl), cells JSON-safe (dates ISO, no NaN), in the
layout `funnelmetrics.serialize` gives every surface (flags such as `partial` last)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

import pandas as pd
from fastapi.responses import Response

from funnelmetrics.serialize import csv_text, ordered, records, spreadsheet_text

MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
XLSX_MAX_ROWS = 1_048_575


def csv_bytes(df: pd.DataFrame, extra: Mapping[str, Any] | None = None) -> bytes:
    """The CSV the CLI prints (`serialize.csv_text`): flags last, true/false, null empty."""
    return csv_text(df, extra=extra).encode("utf-8")


def xlsx_bytes(df: pd.DataFrame, sheet: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """An XLSX sheet of the rows: dates and instants as spreadsheet dates (a date cell, sortable
    and summable by month), everything else as in the CSV."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_name(sheet))
    # headers and text cells as plain strings, never formulas (`serialize.spreadsheet_text`)
    ws.append([spreadsheet_text(c) for c in [*(extra or {}), *map(str, ordered(df.columns))]])
    fixed = [spreadsheet_text(v) for v in (extra or {}).values()]
    head = df.head(XLSX_MAX_ROWS)
    columns = ordered(head.columns)
    raw = head[columns].to_dict(orient="records")
    for row, values in zip(records(head), raw, strict=True):
        cells: list[Any] = list(fixed)
        for key, value in zip(row, columns, strict=True):
            when = _when(values[value])
            if when is None:
                cells.append(spreadsheet_text(row[key]))
                continue
            cell = WriteOnlyCell(ws, value=when)
            cell.number_format = "yyyy-mm-dd" if type(when) is dt.date else \
                "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _when(value: Any) -> dt.date | dt.datetime | None:
    """A cell's date or instant (a pandas Timestamp at midnight is a date), else None. An
    instant is written without its zone (XLSX has none): SPEC §2 instants are UTC."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        naive = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        return naive.date() if naive == dt.datetime.combine(naive.date(), dt.time()) else naive
    if isinstance(value, dt.date):
        return value
    return None


def _sheet_name(name: str) -> str:
    cleaned = "".join("_" if c in '[]:*?/\\' else c for c in name)
    return (cleaned or "data")[:31]


def download(df: pd.DataFrame, fmt: str, name: str,
             extra: Mapping[str, Any] | None = None) -> Response:
    """A CSV or XLSX attachment named `name.fmt`."""
    body = csv_bytes(df, extra) if fmt == "csv" else xlsx_bytes(df, name, extra)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "export"
    return Response(body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{safe}.{fmt}"'})
