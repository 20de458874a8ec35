"""Results on the terminal: Rich tables, and the JSON lines and CSV that `funnelmetrics.serialize`
writes (SPEC §5), printed to stdout.

pandas is not imported here: the frames come from the library, which has loaded it already.
"""

from __future__ import annotations

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
    import pandas as pd

    return pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(df[column])


def rich_table(df: pd.DataFrame, *, title: str | None = None, units: Mapping[str, str] | None = None,
               lang: str = "en", currency: str = "USD") -> Table:
    """A Rich table of a result; numeric columns right-aligned and formatted by unit/locale.

    The period flags are marks, not columns: the first cell of a partial period ends in `*`, of
    an immature cohort in `†` (`footnotes` says what they mean); the first column is then kept
    whole, so that a narrow terminal does not cut the marks off.
    """
    from funnelmetrics.i18n.format import format_value

    columns = [c for c in df.columns if c not in FLAGS]
    units = units or {}
    rows, marked = [], False
    for row in df.to_dict(orient="records"):
        cells = []
        for col in columns:
            unit = units.get(col)
            v = jsonable(row[col])
            cells.append("—" if v is None else
                         format_value(v, unit, lang=lang, currency=currency) if unit else str(v))
        mark = marks(flagged(row, "partial"), flagged(row, "immature"))
        if mark and cells:
            cells[0], marked = f"{cells[0]} {mark}", True
        rows.append(cells)
    table = Table(title=title, title_justify="left", header_style="bold cyan")
    for i, col in enumerate(columns):
        first = i == 0 and marked
        table.add_column(str(col), justify="right" if _numeric(df, col) else "left",
                         no_wrap=first,
                         min_width=min(max(len(r[0]) for r in rows), 24) if first else None)
    for cells in rows:
        table.add_row(*cells)
    return table


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
                currency: str = "USD") -> None:
    """A result as a Rich table, with the footnotes of its marks below it."""
    console.print(rich_table(df, title=title, units=units, lang=lang, currency=currency))
    print_notes(footnotes(df, lang))


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
        print_table(df, title=title, units=units, lang=lang, currency=currency)


def key_values(rows: Iterable[Sequence[Any]], *, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table
