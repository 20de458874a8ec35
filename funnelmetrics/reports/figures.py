"""Small readers shared by the section builders: catalogue answers (pandas frames) → plain
values, and the KPI-style table (value, previous period, same period last year, changes)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from funnelmetrics import catalog, summary
from funnelmetrics.compile.time import Grain, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.gettext import N_
from funnelmetrics.insights.findings import Period
from funnelmetrics.reports.model import Column, Label, Section, Sentence, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace


NOT_FILTERED = N_("Not filtered: the figures of “{part}” are for the whole workspace.")


def not_filtered(section: Section, part: str) -> None:
    """Say in the section's notes that a part (its title, a msgid) ignores the review's filter."""
    section.notes.append(Sentence(NOT_FILTERED, {"part": Label(part, "label")}))


def with_filter(section: Section, part: str, where: dict[str, str],
                ask: Callable[[dict[str, str]], Any]) -> Any:
    """`ask(where)`; when this part's figures cannot take the filter (a dimension its metrics
    do not have: QueryError), the whole workspace's figures, said in a note."""
    if not where:
        return ask({})
    try:
        return ask(where)
    except QueryError:
        not_filtered(section, part)
        return ask({})


def num(value: Any) -> float | None:
    """A float, or None for a missing / NaN / infinite value."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def by_period(df: Any) -> dict[dt.date, dict[str, Any]]:
    """A one-series answer as {period_start: row}."""
    return {day(r["period_start"]): r for r in df.to_dict("records")}


def same_period_last_year(period: Period) -> Period:
    return Period(shift(period.start, Grain.YEAR, -1), period.grain)


KPI_COLUMNS = [
    Column("metric", N_("Metric"), "metric"),
    Column("detail", N_("Detail")),
    Column("value", N_("This period"), unit_from="unit"),
    Column("previous", N_("Previous period"), unit_from="unit"),
    Column("change", N_("Change"), unit_from="change_unit"),
    Column("last_year", N_("Same period last year"), unit_from="unit"),
    Column("change_year", N_("Change on last year"), unit_from="change_unit"),
]


def kpi_table(ws: Workspace, key: str, title: str, wanted: list[tuple[str, dict[str, Any]]],
              period: Period, where: dict[str, str]) -> tuple[Table, bool]:
    """Each metric for `period`, the period before and the same period last year, with the
    changes (percentage points for rates: `summary.change`), asked in one batch. Returns the
    table and whether `period` is partial (not over)."""
    known = {m.id for m in catalog.all_metrics()}
    wanted = [(m, p) for m, p in wanted if m in known]
    year_ago = same_period_last_year(period)
    common = {"grain": period.grain.value, "start": year_ago.start, "end": period.end,
              "where": where}
    try:
        frames = ws.metrics([(m, {"params": p}) for m, p in wanted], **common)
    except Exception:  # noqa: BLE001 — one metric's missing table: ask them one by one
        frames = [_one(ws, m, p, common) for m, p in wanted]
    table, partial = Table(key, title, KPI_COLUMNS), False
    for (metric_id, params), df in zip(wanted, frames, strict=True):
        rows = by_period(df) if df is not None else {}
        unit = catalog.get(metric_id).display_unit
        now, before, then = (rows.get(p.start, {}) for p in (period, period.back(1), year_ago))
        partial = partial or bool(now.get("partial"))
        value, previous, last_year = (num(r.get("value")) for r in (now, before, then))
        table.rows.append({
            "metric": metric_id,
            "detail": " → ".join(str(params[k]) for k in ("from_stage", "to_stage")
                                 if k in params),
            "value": value, "previous": previous, "last_year": last_year,
            "change": summary.change(value, previous, unit),
            "change_year": summary.change(value, last_year, unit),
            "unit": unit, "change_unit": summary.change_unit(unit)})
    return table, partial


def _one(ws: Workspace, metric_id: str, params: dict[str, Any],
         common: dict[str, Any]) -> Any:
    """One metric's answer, or None when this workspace cannot answer it (a table it lacks):
    its row then shows no figures, the others still do."""
    try:
        return ws.metric(metric_id, params=params, **common)
    except Exception:  # noqa: BLE001
        return None


def normalised_change(row: dict[str, Any]) -> float | None:
    """A change comparable across units (percentage points as a share), to pick the largest."""
    change = row.get("change")
    if change is None:
        return None
    return change / 100 if row.get("change_unit") == summary.PP else change


def rep_names(ws: Workspace, ids: list[str]) -> dict[str, str]:
    """Names of the reps on a board from the reps table (the id where it has none)."""
    if not ids or not ws.has_table("reps") or "name" not in ws.table("reps").columns:
        return {}
    reps = ws.table("reps")
    found = reps.filter(reps.rep_id.isin(ids)).select("rep_id", "name").to_pyarrow()
    return {str(i): str(n) for i, n in zip(found["rep_id"].to_pylist(),
                                           found["name"].to_pylist(), strict=True) if n}
