"""Rendering results for the terminal: Rich tables, JSON lines (SPEC §5) and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from rich.table import Table

from funnelmetrics.cli.app import OutputFormat, console
from funnelmetrics.i18n.format import format_value


def jsonable(value: Any) -> Any:
    """A cell as JSON: dates as YYYY-MM-DD, NaN/NaT/None as null, numpy scalars as Python."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return jsonable(value.item())
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def print_json_line(obj: Mapping[str, Any]) -> None:
    """One JSON object on one line (no Rich markup or wrapping)."""
    print(json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")), flush=True)


def print_csv(df: pd.DataFrame, *, extra: Mapping[str, Any] | None = None,
              header: bool = True) -> None:
    buf = io.StringIO()
    rows = records(df)
    columns = [*(extra or {}), *df.columns]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({**(extra or {}), **{k: "" if v is None else v for k, v in row.items()}})
    print(buf.getvalue(), end="", flush=True)


def rich_table(df: pd.DataFrame, *, title: str | None = None, units: Mapping[str, str] | None = None,
               lang: str = "en", currency: str = "USD") -> Table:
    """A Rich table of a result; numeric columns right-aligned and formatted by unit/locale."""
    table = Table(title=title, title_justify="left", header_style="bold cyan")
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    units = units or {}
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            unit = units.get(col)
            v = jsonable(value)
            cells.append("—" if v is None else
                         format_value(v, unit, lang=lang, currency=currency) if unit else str(v))
        table.add_row(*cells)
    return table


def show(df: pd.DataFrame, fmt: OutputFormat, *, title: str | None = None,
         units: Mapping[str, str] | None = None, json_envelope: Mapping[str, Any] | None = None,
         lang: str = "en", currency: str = "USD") -> None:
    """Print a result in the requested format.

    json: `json_envelope` plus `"rows": [...]` on one line when an envelope is given, else each
    row on its own line.
    """
    if fmt is OutputFormat.json:
        if json_envelope is not None:
            print_json_line({**json_envelope, "rows": records(df)})
        else:
            for row in records(df):
                print_json_line(row)
    elif fmt is OutputFormat.csv:
        print_csv(df)
    else:
        console.print(rich_table(df, title=title, units=units, lang=lang, currency=currency))


def key_values(rows: Iterable[Sequence[Any]], *, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table
