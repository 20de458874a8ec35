"""The review model: sections → tables of figures with units, charts drawn from a table, and
narrative sentences whose figures point at table cells (so the text and the tables show the
same value, formatted once, by `cells.format_cell`).

Everything here is language-neutral: titles are gettext msgids, labels are ids (metric ids,
stage names, statuses); the renderers translate and format them for a language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from funnelmetrics.insights.findings import Period


@dataclass(frozen=True)
class Column:
    """A table column: its key in the rows, title (msgid) and unit. `unit_from` names a row
    field holding the unit when it differs per row (a KPI table mixes counts and money)."""

    key: str
    title: str
    unit: str = "text"
    unit_from: str | None = None

    def unit_of(self, row: dict[str, Any]) -> str:
        return str(row.get(self.unit_from) or self.unit) if self.unit_from else self.unit


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass(frozen=True)
class Ref:
    """A figure of the narrative: the cell (table key, row index, column key) it shows."""

    table: str
    row: int
    column: str


@dataclass(frozen=True)
class Label:
    """A text argument of a sentence that is not a figure: a period, a model's name."""

    value: Any
    unit: str = "text"


@dataclass
class Sentence:
    """A narrative sentence: a msgid with `{name}` placeholders and their arguments."""

    msgid: str
    args: dict[str, Ref | Label] = field(default_factory=dict)


@dataclass(frozen=True)
class Chart:
    """A bar chart of one table: a bar per row, labelled by `label`, sized by `value`."""

    table: str
    label: str
    value: str
    title: str


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    notes: list[Sentence] = field(default_factory=list)
    missing: str | None = None  # why the section has no figures (msgid), when it has none

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def cell(self, ref: Ref) -> tuple[Any, str]:
        """The value and unit a reference points at."""
        table = self.table(ref.table)
        row = table.rows[ref.row]
        return row.get(ref.column), table.column(ref.column).unit_of(row)


@dataclass
class Review:
    """One review: the period, its filter, the currency of its amounts and its sections."""

    period: Period
    where: dict[str, str]
    currency: str
    sections: list[Section]
    created: dt.date

    @property
    def kind(self) -> str:
        return self.period.grain.value  # month, quarter or year
