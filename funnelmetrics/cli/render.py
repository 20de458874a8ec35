"""Results on the terminal: Rich tables, and the JSON lines and CSV that `funnelmetrics.serialize`
writes (SPEC §5), printed to stdout.

pandas is not imported here: the frames come from the library, which has loaded it already.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from funnelmetrics.cli.app import OutputFormat, console
from funnelmetrics.serialize import (
    FLAGS,
    csv_text,
    flagged,
    json_line,
    jsonable,
    mark_notes,
    marks,
    records,
)

if TYPE_CHECKING:
    import pandas as pd


def print_json_line(obj: Mapping[str, Any]) -> None:
    """One JSON object on one line (no Rich markup or wrapping)."""
    print(json_line(obj), flush=True)


def print_csv(df: pd.DataFrame, *, extra: Mapping[str, Any] | None = None,
              header: bool = True) -> None:
    print(csv_text(df, extra=extra, header=header), end="", flush=True)


def _numeric(df: pd.DataFrame, column: Any) -> bool:
    if hasattr(df, "is_numeric"):  # serialize.Rows
        return df.is_numeric(column)
    import pandas as pd

    return pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(df[column])


# ---- cells for people -------------------------------------------------------------------------
def printable(text: str) -> str:
    r"""Text from the data, safe to print: control characters (an escape sequence, a bell, a
    line break inside a name) shown as `\xNN`, never sent to the terminal raw.

    >>> printable("Acme\x1b[31m\nLtd")
    'Acme\\x1b[31m\\x0aLtd'
    """
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text)


def display(value: Any, unit: str | None, *, lang: str = "en", currency: str = "USD") -> str:
    """A cell for people: rounded by its unit (amounts of 1,000 or more in whole units, counts
    whole, rates to 0.1%), dates as YYYY-MM-DD, text made printable. JSON and CSV keep every
    digit; this is only for tables."""
    from funnelmetrics.i18n import format as f

    v = jsonable(value)
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return printable(str(v))
    if unit in ("currency", "money") and abs(v) >= 1000:
        from babel.numbers import format_currency

        return format_currency(round(v), currency.upper(), format="¤#,##0",
                               locale=f.locale_of(lang), currency_digits=False)
    if unit in ("days", "months", "score"):  # one decimal always: a column lines up
        from babel.numbers import format_decimal

        return format_decimal(v, format="#,##0.0", locale=f.locale_of(lang))
    if unit == "number" or (unit is None and isinstance(v, float)):
        return f.number(round(v) if abs(v) >= 100 else v, lang, 0 if abs(v) >= 100 else 2)
    if unit is None:
        return f.number(v, lang, 0)
    return f.format_value(v, unit, lang=lang, currency=currency)


# ---- fitting a table to the terminal ----------------------------------------------------------
# A Rich table with edges: each column has one space of padding each side and a rule before
# it, plus the closing rule.
def table_width(widths: Iterable[int]) -> int:
    cols = list(widths)
    return sum(cols) + 3 * len(cols) + 1


def header_lines(name: str, width: int) -> str:
    """A column name wrapped at its underscores to `width` (the name stays whole: every part
    keeps its underscore), so that `conversion_to_next` over a narrow number column reads
    `conversion_` / `to_next`."""
    parts = [p + "_" for p in name.split("_")]
    parts[-1] = parts[-1][:-1]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def _tokens(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def plan_columns(names: Sequence[str], cells: Sequence[Sequence[str]], width: int, *,
                 keys: int = 1, wrap: Iterable[str] = (),
                 secondary: Sequence[str] = ()) -> tuple[list[list[int]], list[str]]:
    """Which columns go in which table so that each fits `width` with every id and number
    whole: columns in `wrap` may break between words, the rest never break. Secondary columns
    are dropped first (returned as the second item); then, if still too wide, the columns after
    the first `keys` are split into several tables, each repeating the key columns."""
    wrap = set(wrap)
    least = []
    for i, name in enumerate(names):
        column = [row[i] for row in cells]
        data = max((_tokens(c) if name in wrap else len(c) for c in column), default=0)
        head = max(len(p) for p in header_lines(name, 1).split("\n"))
        least.append(max(data, min(head, len(name))))
    shown = list(range(len(names)))
    dropped: list[str] = []
    for name in secondary:
        if table_width(least[i] for i in shown) <= width:
            break
        if name in names and names.index(name) >= keys:
            shown.remove(names.index(name))
            dropped.append(name)
    key_cols = [i for i in shown if i < keys]
    groups: list[list[int]] = [list(key_cols)]
    for i in shown:
        if i < keys:
            continue
        if len(groups[-1]) > len(key_cols) and \
                table_width(least[j] for j in [*groups[-1], i]) > width:
            groups.append(list(key_cols))
        groups[-1].append(i)
    return groups, dropped


def rich_tables(df: pd.DataFrame, *, title: str | None = None,
                units: Mapping[str, str] | None = None, lang: str = "en",
                currency: str = "USD", keys: int = 1, wrap: Iterable[str] = (),
                secondary: Sequence[str] = (), width: int | None = None,
                ) -> tuple[list[Table], list[str]]:
    """A result as one or more Rich tables that fit the terminal, never cutting an id or a
    number (`plan_columns`), and the names of the secondary columns left out.

    The period flags are marks, not columns: the first cell of a partial period ends in `*`, of
    an immature cohort in `†` (`footnotes` says what they mean).
    """
    from rich.text import Text

    names = [str(c) for c in df.columns if c not in FLAGS]
    units = units or {}
    cells: list[list[str]] = []
    for row in df.to_dict(orient="records"):
        line = [display(row[c], units.get(c), lang=lang, currency=currency) for c in names]
        mark = marks(flagged(row, "partial"), flagged(row, "immature"))
        if mark and line:
            line[0] = f"{line[0]} {mark}"
        cells.append(line)
    numeric = {c for c in names if _numeric(df, c)}
    groups, dropped = plan_columns(names, cells, width or console.width, keys=keys,
                                   wrap=[c for c in wrap if c not in numeric],
                                   secondary=secondary)
    natural = [max([len(names[i]), *(len(r[i]) for r in cells)]) for i in groups[0]]
    narrow = len(groups) > 1 or table_width(natural) > (width or console.width)
    tables = []
    for n, group in enumerate(groups):
        table = Table(title=title if n == 0 else None, title_justify="left",
                      header_style="bold cyan", caption=None)
        for i in group:
            name = names[i]
            can_wrap = name in wrap and name not in numeric
            data = max((len(r[i]) for r in cells), default=0)
            table.add_column(header_lines(name, max(data, 1)) if narrow else name,
                             justify="right" if name in numeric else "left",
                             no_wrap=not can_wrap,
                             min_width=None if can_wrap else max(data, 1))
        for line in cells:
            table.add_row(*(Text(line[i]) for i in group))
        tables.append(table)
    return tables, dropped


def rich_table(df: pd.DataFrame, *, title: str | None = None,
               units: Mapping[str, str] | None = None, lang: str = "en",
               currency: str = "USD") -> Table:
    """The whole result as one Rich table (for a caller that lays it out itself)."""
    tables, _ = rich_tables(df, title=title, units=units, lang=lang, currency=currency,
                            width=10_000)
    return tables[0]


def footnotes(df: pd.DataFrame, lang: str = "en") -> list[str]:
    """What the marks `rich_table` put on this result mean, in `lang` (none when unused)."""
    rows = df.to_dict(orient="records") if any(f in df.columns for f in FLAGS) else []
    return mark_notes(lang, partial=any(flagged(r, "partial") for r in rows),
                      immature=any(flagged(r, "immature") for r in rows))


def print_notes(notes: Iterable[str]) -> None:
    """Footnotes under a table, each on its own line (not wrapped to the table's width)."""
    for note in notes:
        console.print(note, style="dim", highlight=False, markup=False, soft_wrap=True)


def print_table(df: pd.DataFrame, *, title: str | None = None,
                units: Mapping[str, str] | None = None, lang: str = "en",
                currency: str = "USD", keys: int = 1, wrap: Iterable[str] = (),
                secondary: Sequence[str] = ()) -> None:
    """A result as Rich tables that fit the terminal (`rich_tables`), with the footnotes of its
    marks and of any column left out below."""
    tables, dropped = rich_tables(df, title=title, units=units, lang=lang, currency=currency,
                                  keys=keys, wrap=wrap, secondary=secondary)
    for table in tables:
        console.print(table)
    notes = footnotes(df, lang)
    if dropped:
        notes.append(f"not shown at this width: {', '.join(dropped)} (--format csv or json "
                     "has every column)")
    print_notes(notes)


def show(df: pd.DataFrame, fmt: OutputFormat, *, title: str | None = None,
         units: Mapping[str, str] | None = None, json_envelope: Mapping[str, Any] | None = None,
         lang: str = "en", currency: str = "USD", keys: int = 1, wrap: Iterable[str] = (),
         secondary: Sequence[str] = ()) -> None:
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
        print_table(df, title=title, units=units, lang=lang, currency=currency, keys=keys,
                    wrap=wrap, secondary=secondary)


def key_values(rows: Iterable[Sequence[Any]], *, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table
