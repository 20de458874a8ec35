"""The KPI summary: headline metrics for the last full period (month, quarter, …) at the as-of
instant (or now), each beside the period before. Every figure comes from the catalogue
(`ws.metrics`); which period is "full" is the catalogue's `partial` flag, not a date rule here.

`include_partial=True` shows the current period instead — not over yet, so it is flagged
`partial` and its figures may still move.

The change (`Headline.change`) is not a metric: it presents two catalogue values side by side.
For a rate (a share read in per cent: display unit "ratio") it is the difference in percentage
points, 100 × (value − previous), labelled "pp" — 40 % → 42 % is +2 pp, not +5 %; for every
other unit it is the relative change (value − previous) / |previous|, null when the previous
value is 0 or missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from funnelmetrics import catalog
from funnelmetrics.compile.time import Grain, floor, parse_grain, parse_instant, shift

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

# (metric id, parameters) in the order a sales leader reads them; ids not in the catalogue
# (yet) are skipped.
HEADLINE: list[tuple[str, dict[str, Any]]] = [
    ("leads_created", {}),
    ("stage_conversion_rate", {"from_stage": "mql", "to_stage": "sql"}),
    ("lead_conversion_rate", {}),
    ("win_rate", {}),
    ("average_deal_size", {}),
    ("sales_cycle_days", {}),
    ("pipeline_value", {}),
    ("quota_attainment", {}),
    ("mrr", {}),
    ("customer_churn_rate", {}),
    ("ltv_to_cac", {}),
    ("enps", {}),
]
PP = "pp"  # percentage points: the change of a rate
RELATIVE = "relative"  # (value − previous) / |previous|


def change_unit(unit: str) -> str:
    """How a change of a metric with this display unit reads: "pp" for rates, else "relative"."""
    return PP if unit == "ratio" else RELATIVE


def change(value: float | None, previous: float | None, unit: str) -> float | None:
    """The change from `previous` to `value`: percentage points for a rate (display unit
    "ratio"), else relative. A presentation of two catalogue values, not a metric.

    >>> round(change(0.42, 0.40, "ratio"), 9)  # 40 % → 42 %: +2 percentage points
    2.0
    >>> change(120, 100, "count")  # +20 %
    0.2
    """
    if value is None or previous is None:
        return None
    if change_unit(unit) == PP:
        return (value - previous) * 100
    if previous == 0:
        return None
    return (value - previous) / abs(previous)


@dataclass(frozen=True)
class Headline:
    """One headline metric: its value for `period`, the value of the period before, and whether
    `period` is partial (not over at the as-of instant) or an immature cohort (still inside its
    conversion window: the value will grow)."""

    metric: str
    label: str
    unit: str  # the display unit (ratio, multiple, count, currency, …)
    period: dt.date
    value: float | None
    previous: float | None
    partial: bool = False
    immature: bool = False

    @property
    def change(self) -> float | None:
        """See `change`: percentage points for rates, else relative (module docstring)."""
        return change(self.value, self.previous, self.unit)

    @property
    def change_unit(self) -> str:
        return change_unit(self.unit)

    def to_json(self) -> dict[str, Any]:
        """The summary's JSON row; the period flags last, as in a metric row (SPEC §5)."""
        return {"metric": self.metric, "unit": self.unit, "value": self.value,
                "previous": self.previous, "change": self.change,
                "change_unit": self.change_unit, "immature": self.immature,
                "partial": self.partial}


def current_period(ws: Workspace, grain: Grain, as_of: Any = None) -> dt.date:
    """The first day of the period the as-of instant (or now) falls in, in the workspace's
    time zone."""
    moment = parse_instant(as_of, ws.config.timezone) or \
        dt.datetime.now(dt.UTC).replace(tzinfo=None)
    local = moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(ws.config.timezone))
    return floor(local.date(), grain)


# The columns that say how far the workspace's data goes: events that happen (leads, stage
# moves, deals opened and closed, subscriptions started, spend days) — not an open
# subscription or a quota, which run on past the export.
DATA_EXTENT: dict[str, tuple[str, ...]] = {
    "leads": ("created_at",), "stage_events": ("occurred_at",),
    "opportunities": ("created_at", "closed_at"), "subscriptions": ("started_at",),
    "spend": ("date",),
}


def data_end(ws: Workspace) -> dt.date | None:
    """The last day the workspace has an event on (`DATA_EXTENT`; one small aggregate per
    table, computed in the engine), None when it has none. Instants are read in UTC: a day's
    difference at most, enough to tell an old export from current data."""
    ends = []
    for name, columns in DATA_EXTENT.items():
        if not ws.has_table(name):
            continue
        table = ws.table(name)
        present = [c for c in columns if c in table.columns]
        if not present:
            continue
        row = table.aggregate(**{c: table[c].max() for c in present}).to_pyarrow().to_pylist()[0]
        ends += [v.date() if isinstance(v, dt.datetime) else v for v in row.values()
                 if v is not None]
    return max(ends, default=None)


@dataclass(frozen=True)
class DefaultInstant:
    """The instant a headline view is seen at when the user gives none: now, or — when the
    workspace's data ends before the current period began — the day after its last data day,
    so that the last full period is the data's own (`ended` says so)."""

    as_of: str | None
    ended: dt.date | None = None


def default_instant(ws: Workspace, grain: Grain | str, as_of: Any = None) -> DefaultInstant:
    """`as_of` when given; else now, unless the data ends before the current `grain` period
    began (an old export): then the day after the data's last day."""
    if as_of is not None:
        return DefaultInstant(str(as_of))
    end = data_end(ws)
    if end is None or end >= current_period(ws, parse_grain(grain)):
        return DefaultInstant(None)
    return DefaultInstant((end + dt.timedelta(days=1)).isoformat(), ended=end)


def last_full_period(ws: Workspace, grain: Grain | str,
                     as_of: Any = None) -> tuple[dt.date, dt.date]:
    """The first and last day of the last full `grain` period at `as_of` (or now)."""
    grain = parse_grain(grain)
    current = current_period(ws, grain, as_of)
    return shift(current, grain, -1), current - dt.timedelta(days=1)


def kpi_summary(ws: Workspace, grain: Grain | str, *, as_of: Any = None, lang: str = "en",
                include_partial: bool = False) -> list[Headline]:
    """Headline metrics for the last full period of `grain` at the as-of instant (or now), each
    with the period before; with `include_partial`, the current (partial) period and the one
    before it.

    The current period and the two before it are asked for together (one batch); the period
    shown is chosen by the results' `partial` flags (`shown_period`): the latest full one, or
    the current one with `include_partial`.
    """
    grain = parse_grain(grain)
    current = current_period(ws, grain, as_of)
    start, end = shift(current, grain, -2), shift(current, grain) - dt.timedelta(days=1)
    known = {m.id for m in catalog.all_metrics()}
    wanted = [(metric_id, params) for metric_id, params in HEADLINE if metric_id in known]
    # one batch: the headlines share their reach table, currency probes and aggregates
    results = ws.metrics([(metric_id, {"params": params}) for metric_id, params in wanted],
                         grain=grain.value, start=start, end=end, as_of=as_of)
    out = []
    for (metric_id, params), df in zip(wanted, results, strict=True):
        metric = catalog.get(metric_id)
        stages = " → ".join(str(params[k]) for k in ("from_stage", "to_stage") if k in params)
        label = f"{metric.name(lang)} ({stages})" if stages else metric.name(lang)
        rows = _rows(df)
        if not rows:  # no period at all (never with a calendar grain): nothing to show
            out.append(Headline(metric_id, label, metric.display_unit,
                                shift(current, grain, -1), None, None))
            continue
        i = shown_period([row["partial"] for row in rows], include_partial)
        shown = rows[i]
        out.append(Headline(metric_id, label, metric.display_unit, shown["period_start"],
                            shown["value"], rows[i - 1]["value"] if i > 0 else None,
                            partial=shown["partial"], immature=shown["immature"]))
    return out


def _rows(df: Any) -> list[dict[str, Any]]:
    """A one-series result as rows in period order (value a float or None, flags bools)."""
    rows = []
    for rec in df.sort_values("period_start").to_dict(orient="records"):
        period = rec["period_start"]
        rows.append({"period_start": period.date() if isinstance(period, dt.datetime)
                     else period, "value": _num(rec.get("value")),
                     "partial": _flag(rec.get("partial")), "immature": _flag(rec.get("immature"))})
    return rows


def _flag(value: Any) -> bool:
    """A flag cell as a bool (missing or null: false)."""
    return value is not None and value == value and bool(value)


def shown_period(partial: list[bool], include_partial: bool = False) -> int:
    """Which of a series of periods (in order, at least one) a headline shows, by their
    `partial` flags: the last full one; with `include_partial` the current one (the first
    partial: the later ones have not begun). The last period when none is full, or when
    `include_partial` finds none partial."""
    full = [i for i, flag in enumerate(partial) if not flag]
    running = [i for i, flag in enumerate(partial) if flag]
    if include_partial:
        return running[0] if running else len(partial) - 1
    return full[-1] if full else len(partial) - 1


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
