"""Results as data for every surface: JSON-able records (SPEC §5), CSV text, display rounding
and the marks that flag a row. The CLI and the web both use this module; neither serialises a
result on its own, so `funnelmetrics metric --format json` and `GET /api/v1/metric/{id}` are
the same object.

A metric row (SPEC §5) reads `period_start`, the dimensions, `value`, `numerator`,
`denominator`, then the period flags: `immature` (cohort metrics: the cohort is younger than
its conversion window) and `partial` (the period is not over at the query's instant, the
as-of instant or now). The flags are always last, in that order, in every row, CSV and export.

pandas is imported only where a DataFrame is handled: the CLI imports this module at start-up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from funnelmetrics.i18n.ui import t

if TYPE_CHECKING:
    import pandas as pd

RATIO_PARTS = ("numerator", "denominator")
FLAGS = ("immature", "partial")  # period flags: always the last columns, in this order
PARTIAL_MARK = "*"  # a period not over yet: its figures may still change
IMMATURE_MARK = "†"  # a cohort younger than its conversion window: its value will grow


# ---- cells ------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """A cell as JSON: dates as YYYY-MM-DD, NaN/NaT/NA/None as null, numpy scalars as Python."""
    if value is None:
        return None
    pd = sys.modules.get("pandas")  # a pandas value means pandas is loaded already
    if pd is not None:
        if value is pd.NaT or value is pd.NA:
            return None
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars (np.datetime64("NaT").item() is None)
        return jsonable(value.item())
    return value


# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters a spreadsheet (XLSX is XML 1.0) cannot hold; tab, LF and CR are kept.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def spreadsheet_text(value: Any) -> Any:
    r"""A cell or header that is safe to open in a spreadsheet: control characters removed and
    text that would start a formula prefixed with a single quote (OWASP's rule). Numbers, and
    text that is a plain number such as "-5", are left as they are.

    >>> [spreadsheet_text(v) for v in ("=HYPERLINK(1)", "-2+3", "-5", -5, "a\x00b")]
    ["'=HYPERLINK(1)", "'-2+3", '-5', -5, 'ab']
    """
    if not isinstance(value, str):
        return value
    text = CONTROL_CHARS.sub("", value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> Any:
    """A JSON-able cell as CSV text: null as empty, booleans as JSON writes them, text safe for
    a spreadsheet (`spreadsheet_text`), line breaks as LF (the csv module leaves a lone CR
    unquoted when lines end in LF, which splits the row)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = spreadsheet_text(value)
    return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


# ---- rows -------------------------------------------------------------------------------------
class Rows:
    """A small result without pandas (a kept query's answer on the command line): column
    names, rows as dicts, the columns that hold numbers. It has what this module and the
    terminal renderers use of a DataFrame: `columns`, `to_dict("records")`, `assign` of a
    constant, `drop(columns=…)`, selecting columns by a list, `len`."""

    def __init__(self, columns: Iterable[Any], records: Iterable[Mapping[str, Any]],
                 numeric: Iterable[str] = ()) -> None:
        self.columns = list(columns)
        self._records = [dict(r) for r in records]
        self.numeric = set(numeric) & set(self.columns)

    @classmethod
    def from_tuples(cls, columns: Iterable[str], rows: Iterable[Iterable[Any]],
                    numeric: Iterable[str] = ()) -> Rows:
        names = list(columns)
        return cls(names, (dict(zip(names, row, strict=True)) for row in rows), numeric)

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, columns: list[Any]) -> Rows:
        return Rows(columns, ({c: r[c] for c in columns} for r in self._records), self.numeric)

    def to_dict(self, orient: str = "records") -> list[dict[str, Any]]:
        if orient != "records":
            raise ValueError("Rows.to_dict gives records only")
        return [dict(r) for r in self._records]

    def assign(self, **constants: Any) -> Rows:
        cols = [*self.columns, *(c for c in constants if c not in self.columns)]
        return Rows(cols, ({**r, **constants} for r in self._records),
                    self.numeric - set(constants))

    def drop(self, *, columns: Iterable[Any]) -> Rows:
        gone = set(columns)
        return self[[c for c in self.columns if c not in gone]]

    def is_numeric(self, column: Any) -> bool:
        return column in self.numeric


def ordered(columns: Iterable[Any]) -> list[Any]:
    """Columns with the period flags moved to the end (`immature`, then `partial`)."""
    cols = list(columns)
    return [c for c in cols if c not in FLAGS] + [f for f in FLAGS if f in cols]


def metric_frame(df: pd.DataFrame, *, immature: bool = False) -> pd.DataFrame:
    """A metric result in the SPEC §5 layout: period_start, dimensions, value, numerator,
    denominator (null for a metric that is not a ratio), immature, partial.

    `immature=True` adds that column (null) to a metric that has none, so that several metrics,
    some of them cohort metrics, make one rectangular CSV table.
    """
    out = df
    if "numerator" not in out.columns:
        out = out.assign(numerator=None, denominator=None)
    if immature and "immature" not in out.columns:
        out = out.assign(immature=None)
    head = [c for c in out.columns if c not in (*RATIO_PARTS, *FLAGS)]
    return out[[*head, *RATIO_PARTS, *(f for f in FLAGS if f in out.columns)]]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a result as JSON-able dicts (flags last)."""
    cols = ordered(df.columns)
    frame = df if cols == list(df.columns) else df[cols]
    return [{str(k): jsonable(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def metric_json(metric_id: str, unit: str, df: pd.DataFrame) -> dict[str, Any]:
    """The SPEC §5 object of one metric: {"metric": ID, "unit": U, "rows": [...]}."""
    return {"metric": metric_id, "unit": unit, "rows": records(metric_frame(df))}


def json_line(obj: Mapping[str, Any]) -> str:
    """One JSON object on one line (the CLI's `--format json`); a number that is not one (NaN,
    ±infinity: a model fitted on too little data) is null, never the invalid `NaN`."""
    return json.dumps(_finite(obj), ensure_ascii=False, separators=(", ", ": "),
                      allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def csv_text(df: pd.DataFrame, *, extra: Mapping[str, Any] | None = None,
             header: bool = True) -> str:
    """A result as CSV: `extra` columns first (e.g. metric, unit), nulls empty, flags last."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(csv_cell(c) for c in [*(extra or {}), *map(str, ordered(df.columns))])
    fixed = [csv_cell(v) for v in (extra or {}).values()]
    for row in records(df):
        writer.writerow([*fixed, *(csv_cell(v) for v in row.values())])
    return buf.getvalue()


def rounded(df: pd.DataFrame, digits: int | Mapping[str, int]) -> pd.DataFrame:
    """A copy with numeric columns rounded for display (`digits` for all numeric columns, or
    per column). Only for tables people read: JSON and CSV keep every digit."""
    import pandas as pd

    per = digits if isinstance(digits, Mapping) else {
        c: digits for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    out = df.copy()
    for column, n in per.items():
        out[column] = out[column].round(n)
    return out


# ---- marks ------------------------------------------------------------------------------------
def marks(partial: Any = False, immature: Any = False) -> str:
    """The marks of a row for tables people read: `*` partial period, `†` immature cohort."""
    return ((PARTIAL_MARK if jsonable(partial) is True else "")
            + (IMMATURE_MARK if jsonable(immature) is True else ""))


def mark_notes(lang: str = "en", *, partial: bool = False, immature: bool = False) -> list[str]:
    """The footnotes of the marks used in a table, in `lang`."""
    notes = []
    if partial:
        notes.append(f"{PARTIAL_MARK} {t('partial_note', lang)}")
    if immature:
        notes.append(f"{IMMATURE_MARK} {t('immature_note', lang)}")
    return notes


def flagged(row: Mapping[str, Any], flag: str) -> bool:
    """Whether a row's flag is true (a missing or null flag is false)."""
    return jsonable(row.get(flag)) is True
