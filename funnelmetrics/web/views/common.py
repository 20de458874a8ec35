"""What every page shares: the global filters, cards (a chart, a table or a note, with
drill-down and export links), and the metric card used by most pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_compact_currency, format_compact_decimal
from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric, Time
from funnelmetrics.compile.time import Grain, floor, parse_grain, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.format import date as format_date
from funnelmetrics.i18n.format import format_value, locale_of, number
from funnelmetrics.i18n.ui import t
from funnelmetrics.schema import TABLES
from funnelmetrics.semantic import registry
from funnelmetrics.semantic.model import Scope
from funnelmetrics.serialize import flagged, jsonable, mark_notes, marks
from funnelmetrics.web import charts, service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.rows import TIME_COLUMNS
from funnelmetrics.web.source import Session

TOP_SERIES = 8
GRAINS = ("day", "week", "month", "quarter", "year")


@dataclass
class Filters:
    """The global filters of a page (date range, grain, split, dimension filters, language)."""

    grain: str
    start: dt.date
    end: dt.date
    where: dict[str, Any]
    by: str | None
    lang: str
    currency: str = "USD"
    as_of: str | None = None
    include_partial: bool = False  # the current period (not over yet) in the range and tiles
    data_ended: dt.date | None = None  # the data's last day, when the default range is its own
    extra: dict[str, Any] = field(default_factory=dict)  # page controls (metric, funnel, …)

    def query(self, **changes: Any) -> list[tuple[str, str]]:
        base: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat(),
                                "grain": self.grain, "by": self.by, "lang": self.lang,
                                "as_of": self.as_of,
                                "include_partial": "1" if self.include_partial else None,
                                **self.extra}
        base.update(changes)
        items = [(k, str(v)) for k, v in base.items() if v not in (None, "", []) and k != "where"]
        where = changes.get("where", self.where)
        for key, value in where.items():
            for v in value if isinstance(value, list) else [value]:
                items.append(("where", f"{key}={v}"))
        return items

    def url(self, path: str, **changes: Any) -> str:
        return f"{path}?{urlencode(self.query(**changes))}"

    def nav_url(self, path: str) -> str:
        """Another page with the same global filters (not this page's own controls)."""
        return self.url(path, **{k: None for k in self.extra})

    def fmt(self, value: Any, unit: str | None) -> str:
        value = jsonable(value)
        if unit == "multiple" and isinstance(value, int | float):
            return f"{number(value, self.lang, 1)}×"
        text = format_value(value, unit, lang=self.lang, currency=self.currency)
        if unit == "days" and value is not None:
            return f"{text} {t('days_unit', self.lang)}"
        return text

    def short(self, value: Any, unit: str | None) -> str:
        """Like `fmt`, with large amounts shortened ($11.2M) to fit a tile."""
        value = jsonable(value)
        if unit in ("currency", "count") and isinstance(value, int | float) \
                and abs(value) >= 1_000_000:
            if unit == "currency":
                return format_compact_currency(value, self.currency, locale=locale_of(self.lang),
                                               fraction_digits=1)
            return format_compact_decimal(value, locale=locale_of(self.lang), fraction_digits=1)
        return self.fmt(value, unit)

    def period_label(self, period: Any, grain: str | None = None) -> str:
        day = period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period)[:10])
        g = grain or self.grain
        if g == "month":
            return format_date(day, self.lang, "MMM y")
        if g == "quarter":
            return f"{day.year} Q{(day.month - 1) // 3 + 1}"
        if g == "year":
            return str(day.year)
        return format_date(day, self.lang, "medium")

    def period_end(self, period: dt.date, grain: str | None = None) -> dt.date:
        g = parse_grain(grain or self.grain)
        if g is Grain.ALL:
            return self.end
        return shift(floor(period, g), g) - dt.timedelta(days=1)


@dataclass
class TableView:
    columns: list[str]
    rows: list[list[Any]]  # cells: text, or (text, href)
    numeric: list[bool] = field(default_factory=list)


@dataclass
class Card:
    title: str
    chart: dict[str, Any] | None = None
    table: TableView | None = None
    note: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    wide: bool = False
    height: int = 320


def unit_of(metric: Metric) -> str:
    """How a metric's values read: a ratio whose benchmark marks are 2 or more is a multiple
    (LTV:CAC 3×, pipeline coverage 4×), not a share shown in per cent."""
    return metric.display_unit


def label_of(metric: Metric, lang: str, params: Mapping[str, Any] | None = None,
             by: str | None = None) -> str:
    """The metric's name, its stage parameters (mql → sql) and its split."""
    label = metric.name(lang)
    stages = [str(params[k]) for k in ("from_stage", "to_stage", "stage") if (params or {}).get(k)]
    if stages:
        label += f" ({' → '.join(stages)})"
    return f"{label} · {t('by', lang)} {by}" if by else label


# ---- links --------------------------------------------------------------------------------
# Entities that are not tables, and the table whose rows are behind them.
def _table_of(entity: str) -> str:
    """The canonical table an entity's rows come from (its semantic declaration says)."""
    declared = registry.ENTITIES.get(entity)
    return declared.table if declared is not None and declared.table else entity


@dataclass(frozen=True)
class Drill:
    """Where the rows behind a metric are: a table, the time column its periods come from, and
    whether a period means everything up to its end (snapshots: MRR, open pipeline)."""

    table: str
    column: str | None
    up_to_end: bool = False


def drill_target(metric: Metric) -> Drill | None:
    """The table behind a metric's first measure that lives in a table."""
    for m in metric.measures.values():
        entity = m.entity if isinstance(m.entity, str) else metric.entity
        table = _table_of(entity)
        if table not in TABLES:
            continue
        if m.time_kind is Time.SNAPSHOT:
            return Drill(table, TIME_COLUMNS.get(table), up_to_end=True)
        columns = {c.name for c in TABLES[table].columns}
        column = m.time if isinstance(m.time, str) and m.time in columns else None
        return Drill(table, column or TIME_COLUMNS.get(table))
    table = _table_of(metric.entity)
    return Drill(table, TIME_COLUMNS.get(table)) if table in TABLES else None


def rows_url(f: Filters, table: str, *, date_column: str | None = None,
             start: dt.date | None = None, end: dt.date | None = None,
             where: Mapping[str, Any] | None = None, up_to_end: bool = False) -> str:
    q: list[tuple[str, str]] = [("end", (end or f.end).isoformat()), ("lang", f.lang)]
    if not up_to_end:
        q.insert(0, ("start", (start or f.start).isoformat()))
    if date_column and date_column != TIME_COLUMNS.get(table):
        q.append(("date_column", date_column))
    for key, value in {**f.where, **(where or {})}.items():
        for v in value if isinstance(value, list) else [value]:
            q.append(("where", f"{key}={v}"))
    return f"/rows/{table}?{urlencode(q)}"


def export_rows_links(f: Filters, who: Principal, table: str, date_column: str | None = None,
                      up_to_end: bool = False) -> list[tuple[str, str]]:
    if not who.sees_rows:
        return []
    drill = rows_url(f, table, date_column=date_column, up_to_end=up_to_end)
    query = drill.split("?", 1)[1]
    return [(t("drill_down", f.lang), drill),
            (f"{t('export_rows', f.lang)} CSV", f"/api/v1/export/{table}.csv?{query}"),
            (f"{t('export_rows', f.lang)} XLSX", f"/api/v1/export/{table}.xlsx?{query}")]


def export_metric_links(f: Filters, metric_id: str, params: Mapping[str, Any],
                        by: str | None) -> list[tuple[str, str]]:
    q = [("grain", f.grain), ("start", f.start.isoformat()), ("end", f.end.isoformat())]
    q += [("by", by)] if by else []
    q += [("param", f"{k}={v}") for k, v in params.items()]
    for key, value in f.where.items():
        for v in value if isinstance(value, list) else [value]:
            q.append(("where", f"{key}={v}"))
    if f.as_of:
        q.append(("as_of", f.as_of))
    qs = urlencode(q)
    return [(f"{t('export_data', f.lang)} CSV", f"/api/v1/export/metric/{metric_id}.csv?{qs}"),
            (f"{t('export_data', f.lang)} XLSX",
             f"/api/v1/export/metric/{metric_id}.xlsx?{qs}")]


# ---- metric cards -------------------------------------------------------------------------
def unavailable(title: str, lang: str, key: str = "not_available") -> Card:
    return Card(title, note=t(key, lang))


def view_or_note(session: Session, who: Principal, title: str, lang: str, module: str,
                 function: str, **query: Any) -> tuple[Any, Card | None]:
    """A library view's rows for a card: (rows, None), or (None, a card saying why there are
    none: not available here, not for the caller's role, the query's error, no data)."""
    try:
        df = service.view(session, who, module, function, **query)
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        return None, unavailable(title, lang, "not_for_role")
    except QueryError as exc:
        return None, Card(title, note=t(user_message(exc), lang))
    if df.empty:
        return None, unavailable(title, lang, "no_data")
    return df, None


def fetch(session: Session, who: Principal, f: Filters, metric_id: str,
          params: Mapping[str, Any] | None = None, by: Sequence[str] = (),
          grain: str | None = None) -> Any:
    """The metric for the page's filters, or why it cannot be shown (a ui text key or the
    library's message, e.g. a dimension this metric cannot be split by)."""
    if not service.has_metric(metric_id):
        return "not_available"
    try:
        return service.metric(session, who, metric_id, grain=grain or f.grain, by=list(by),
                              start=f.start, end=f.end, where=f.where, params=params or {},
                              as_of=f.as_of)
    except HTTPException as exc:
        if exc.status_code == 403:
            return "not_for_role"
        raise
    except QueryError as exc:
        return user_message(exc)


def user_message(exc: Exception) -> str:
    """What a tile says when the library refuses its query: a filter or split this figure
    cannot take (a dimension its rows do not have) is `filter_not_applicable`, not the
    library's message naming the entity; any other message as it is (its first line)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if text.startswith(("unknown dimension", "cannot split", "cannot filter")) or \
            "unknown dimension" in text:
        return "filter_not_applicable"
    return text


MAX_SPLIT_VALUES = 50


def data_end_of(session: Session) -> dt.date | None:
    """The workspace's last data day (`summary.data_end`), kept for this version of it."""
    from funnelmetrics.summary import data_end

    return session.cached(("data_end",), data_end)


def split_dimensions(session: Session, entity: str = "leads") -> list[str]:
    """The dimensions "Split by" offers: those of `entity` with at most `MAX_SPLIT_VALUES`
    distinct values in the data (never an id: a chart of 20,000 series helps nobody). One
    aggregate over the rows, kept for this version of the workspace."""
    dims = service.dimensions(session, entity)

    def compute(ws: Any) -> list[str]:
        scope = Scope(ws)
        rows = registry.with_dimensions(scope, entity, registry.base(scope, entity), dims)
        counts = rows.aggregate(**{f"n{i}": rows[f"dim:{d}"].approx_nunique()
                                   for i, d in enumerate(dims)}).to_pyarrow().to_pylist()[0]
        return [d for i, d in enumerate(dims)
                if not d.endswith("id") and (counts[f"n{i}"] or 0) <= MAX_SPLIT_VALUES]

    return session.cached(("split_dimensions", entity), compute)


def series_of(df: Any, by: str | None, top: int = TOP_SERIES) -> list[tuple[str, Any]]:
    """(label, rows) per dimension value, the largest `top` first (by numerator, else value)."""
    if not by:
        return [("", df)]
    weight = "numerator" if df["numerator"].notna().any() else "value"
    sizes = df.groupby(by, dropna=False)[weight].sum(min_count=1).fillna(0).abs()
    order = sizes.sort_values(ascending=False).index[:top]
    return [("(unknown)" if key is None or key != key else str(key),
             df[df[by].isna()] if key is None or key != key else df[df[by] == key])
            for key in order]


def metric_card(session: Session, who: Principal, f: Filters, metric_id: str, *,
                params: Mapping[str, Any] | None = None, by: str | None = None,
                title: str | None = None, kind: str = "scatter", wide: bool = False,
                column: str = "value", unit: str | None = None) -> Card:
    """A metric over the range as lines (or bars), split by `by`, with drill-down and exports;
    `column` may be a ratio's numerator (spend behind cost per lead) with its own `unit`."""
    metric = catalog.get(metric_id) if service.has_metric(metric_id) else None
    title = title or (label_of(metric, f.lang, params, by) if metric else metric_id)
    df = fetch(session, who, f, metric_id, params, [by] if by else [])
    if isinstance(df, str):
        return unavailable(title, f.lang, df)
    assert metric is not None
    target = drill_target(metric)
    traces, partial = [], []
    for label, part in series_of(df, by):
        x = [jsonable(p) for p in part["period_start"]]
        y = [jsonable(v) for v in part[column]]
        partial.append([flagged(r, "partial") for r in part.to_dict(orient="records")])
        urls = None
        if target and who.sees_rows:
            extra = {by: label} if by and label != "(unknown)" else {}
            urls = [rows_url(f, target.table, date_column=target.column, start=p,
                             end=f.period_end(p), where=extra, up_to_end=target.up_to_end)
                    for p in part["period_start"]]
        traces.append((label or metric.name(f.lang), x, y, urls))
    card = Card(title, chart=charts.lines(traces, unit=unit or unit_of(metric), kind=kind,
                                          partial=partial,
                                          partial_label=t("partial_short", f.lang),
                                          period_label=f.period_label),
                wide=wide, note=partial_note(f, df))
    card.links = export_metric_links(f, metric_id, params or {}, by)
    if target:
        card.links += export_rows_links(f, who, target.table, target.column, target.up_to_end)
    return card


def partial_note(f: Filters, df: Any) -> str | None:
    """The footnote of a result that has periods not over yet (their figures may move)."""
    rows = df.to_dict(orient="records") if "partial" in df.columns else []
    notes = mark_notes(f.lang, partial=any(flagged(r, "partial") for r in rows))
    if "note" in df.columns:  # the catalogue's own (eNPS of too few respondents not shown)
        notes += sorted({str(n) for n in df["note"].dropna()})
    return " · ".join(notes) if notes else None


def value_table(f: Filters, df: Any, unit: str, columns: Sequence[str],
                labels: Sequence[str]) -> tuple[TableView, str | None]:
    """A small formatted table of a result's columns, and its footnote: a partial period's
    label ends in *, an immature cohort's in † (`serialize.marks`)."""
    records = df.to_dict(orient="records")
    rows = []
    for rec in records:
        mark = marks(flagged(rec, "partial"), flagged(rec, "immature"))
        rows.append([f.fmt(rec.get(c), unit if c in ("value",) else _unit_of(c, unit))
                     if c not in ("period_start",) else
                     f"{f.period_label(rec[c])} {mark}".rstrip()
                     for c in columns])
    notes = mark_notes(f.lang, partial=any(flagged(r, "partial") for r in records),
                       immature=any(flagged(r, "immature") for r in records))
    return (TableView(list(labels), rows, [c not in ("period_start",) for c in columns]),
            " · ".join(notes) or None)


def _unit_of(column: str, unit: str) -> str | None:
    return {"numerator": None, "denominator": None}.get(column, unit)
