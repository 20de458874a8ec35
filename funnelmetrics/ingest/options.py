"""How a load reads dates, numbers and text: the user's `--date-format`, `--decimal` and
`--encoding`, and the workspace's plausible-date settings (`[ingest]` in funnelmetrics.toml).

A slash date is read only in a known order (given, or inferred from the column, see `dates`);
nothing here guesses.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from funnelmetrics.errors import InputError

# Orders of a slash date's three parts; a four-digit first part is always year/month/day.
ORDERS = ("MDY", "DMY", "YMD")
DECIMALS = (",", ".")


@dataclass(frozen=True)
class ReadOptions:
    """Everything a load needs to read values the way the file means them."""

    date_format: str | None = None  # "MDY", "DMY" or "YMD"; None: inferred per column
    decimal: str | None = None  # "," or "."; None: plain numbers only (1234.5)
    encoding: str | None = None  # a Python codec name; None: detected
    min_year: int = 1900
    max_year: int = 2100
    placeholder_end_dates: str = "reject"  # or "no date": 9999-12-31 in an end date is null
    timezone: str | None = None  # zone of text timestamps without an offset (None: UTC)


def date_order(text: str | None) -> str | None:
    """`--date-format` as an order: `DD/MM/YYYY`, `d/m/y`, `%d/%m/%Y`, `DMY` → `DMY`."""
    if text is None or not text.strip():
        return None
    letters = [ch.upper() for ch in re.sub(r"%[A-Za-z]", lambda m: m.group(0)[1], text)
               if ch.isalpha()]
    order = "".join(ch for i, ch in enumerate(letters) if i == 0 or letters[i - 1] != ch)
    if order not in ORDERS:
        raise InputError(f"--date-format {text!r}: give the order of day, month and year, "
                         "e.g. DD/MM/YYYY, MM/DD/YYYY or YYYY/MM/DD")
    return order


def decimal_mark(text: str | None) -> str | None:
    """`--decimal`: `,` (1.234.567,00) or `.` (1,234,567.00)."""
    if text is None or not text.strip():
        return None
    mark = text.strip()
    if mark.lower() in ("comma", ","):
        return ","
    if mark.lower() in ("dot", "point", "period", "."):
        return "."
    raise InputError(f"--decimal {text!r}: use , (1.234.567,00) or . (1,234,567.00)")


def encoding_name(text: str | None) -> str | None:
    """`--encoding`: any codec Python knows (utf-8, cp1252, latin-1, utf-16, …)."""
    if text is None or not text.strip():
        return None
    try:
        return codecs.lookup(text.strip()).name
    except LookupError:
        raise InputError(f"--encoding {text!r}: unknown encoding (e.g. utf-8, cp1252, "
                         "latin-1)") from None


def read_options(*, date_format: str | None = None, decimal: str | None = None,
                 encoding: str | None = None, min_year: int = 1900, max_year: int = 2100,
                 placeholder_end_dates: str = "reject") -> ReadOptions:
    """Checked options: a wrong one is an InputError naming the option."""
    return ReadOptions(date_order(date_format), decimal_mark(decimal), encoding_name(encoding),
                       min_year, max_year, placeholder_end_dates)
