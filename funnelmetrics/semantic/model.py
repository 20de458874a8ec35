"""What an entity declaration is (MetricFlow's semantic model): the rows metrics aggregate.

One `Entity` per row set says everything the compiler, drill-down rows, the web's row views and
validation need to know of it: the table it reads, its key, its time columns (and which are
calendar dates read in no time zone), the tables its ids point to (joins), the columns that are
measures rather than dimensions, derived columns, the amounts converted to the reporting
currency, dimensions whose value changes over time (read from an event table at each period's
end), and how its rows are seen as of an instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis

if TYPE_CHECKING:
    from funnelmetrics.connection import Connection


@dataclass
class Scope:
    """What every entity needs: the workspace's connection and the instant it is seen at.
    `built` keeps, per scope, entity rows whose building asked the database something (the
    currency probe), so it is asked once."""

    ws: Connection
    as_of: dt.datetime | None = None
    built: dict[str, ibis.Table] = field(default_factory=dict)

    def before(self, ts: ibis.Value) -> ibis.Value:
        """True where an instant is before the as-of instant (always, without one)."""
        return ibis.literal(True) if self.as_of is None else ts < self.as_of


Rows = Callable[[Scope], ibis.Table]


@dataclass(frozen=True)
class Join:
    """`prefix.column` comes from entity `target`, matched on this entity's `local_key` =
    target.`remote_key`."""

    prefix: str
    target: str
    local_key: str
    remote_key: str


@dataclass(frozen=True)
class DerivedColumn:
    """A dimension computed rather than read: `build(scope, rows)` returns the rows with a
    `dim:NAME` column. A column of the user's own with the same name wins over it."""

    name: str
    build: Callable[[Scope, ibis.Table], ibis.Table]


@dataclass(frozen=True)
class History:
    """A dimension whose value changes over time, read from an event table: its value at a
    period's end is the `column` of the entity's latest event before the next period starts
    (`events` keyed by `key`, timed by `time`); with none before then, the earliest recorded one;
    with no event at all, the entity's own column of the same name."""

    name: str
    events: str
    key: str
    column: str
    time: str = "occurred_at"


@dataclass(frozen=True)
class Currency:
    """Amounts converted to the reporting currency (SPEC §2 fx_rates) at the rate of `when`."""

    amounts: tuple[str, ...]
    when: Callable[[ibis.Table], ibis.Value]


@dataclass(frozen=True)
class Entity:
    """One declared row set (see the module doc).

    - `table`: the canonical table the rows are (drill-down shows it); None for row sets that
      exist only as computed rows.
    - `rows`: how the rows are seen as of the scope's instant (default: the table, rows whose
      `as_of_time` is before the instant).
    - `from_query`: for entities built from the whole query (its periods, dimensions,
      parameters): `ctx -> rows` with `dim:` columns attached and the query's filters applied.
    - `dimensions_of`: another entity whose dimensions (columns, joins, derived) these rows have.
    - `span`: (entity, column) pairs whose instants give a query's default range;
      `span_of(ctx, time)`, where the pairs depend on the measure's time column.
    """

    name: str
    table: str | None = None
    key: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    calendar_dates: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()  # columns that are amounts or scores, never dimensions
    joins: tuple[Join, ...] = ()
    history: tuple[History, ...] = ()
    currency: Currency | None = None
    rows: Rows | None = None
    as_of_time: str | None = None
    from_query: Callable[[Any], ibis.Table] | None = None
    dimensions_of: str | None = None
    span: tuple[tuple[str, str], ...] = ()
    span_of: Callable[[Any, str | None], tuple[tuple[str, str], ...]] | None = None
    description: str = ""

    @property
    def default_time(self) -> str | None:
        """The time column a date range applies to by default (drill-down, row views)."""
        return (self.times or self.calendar_dates or (None,))[0]

    @property
    def not_dimensions(self) -> frozenset[str]:
        return frozenset((*self.times, *self.calendar_dates, *self.measures))
