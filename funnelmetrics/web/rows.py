"""Drill-down: the rows behind a number, a page at a time, limited to the caller's rows.

Filters are `dimension=value` (a column of the table, or one reached through it such as
`rep.team`, resolved by the compiler's entities) and a date range on the table's time column.
A rep's or manager's rows are the table's rows whose rep_id is theirs, or whose lead,
opportunity or account is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd
from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.compile.time import parse_date, parse_instant
from funnelmetrics.errors import QueryError
from funnelmetrics.schema import QUARANTINE_TABLE, TABLES, Kind
from funnelmetrics.semantic import registry
from funnelmetrics.semantic.model import Scope
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.service import check_dates, frozen
from funnelmetrics.web.source import Session

# The time column a date range applies to by default: each table's entity declaration says.
TIME_COLUMNS: dict[str, str | None] = {
    e.name: e.default_time for e in registry.ENTITIES.values() if e.table == e.name
} | {QUARANTINE_TABLE: "loaded_at"}
# How a table's rows belong to reps: a rep_id of its own, or the rep of what it points to.
DIRECT = {"leads", "opportunities", "quotas", "reps"}
VIA = {"stage_events": ("lead_id", "leads"), "touchpoints": ("lead_id", "leads"),
       "deal_stage_events": ("opportunity_id", "opportunities")}
VIA_ACCOUNT = {"accounts", "subscriptions", "engagement_events"}
MAX_PAGE = 1000


def tables_for(who: Principal) -> list[str]:
    names = list(TABLES)
    return [*names, QUARANTINE_TABLE] if who.is_admin else names


def _check_table(who: Principal, table: str) -> None:
    if table not in tables_for(who):
        raise HTTPException(404, f"unknown table {table!r}; tables: {', '.join(tables_for(who))}")
    scopable = table in DIRECT or table in VIA or table in VIA_ACCOUNT
    if who.rep_ids is not None and not scopable:
        raise HTTPException(403, f"{table} rows do not belong to reps, so your role cannot see "
                                 "them")


def _scoped(ws: Any, table: str, t: ibis.Table, rep_ids: tuple[str, ...]) -> ibis.Table:
    ids = list(rep_ids)
    if table in DIRECT:
        return t.filter(t.rep_id.isin(ids))
    if table in VIA:
        key, parent = VIA[table]
        p = ws.table(parent)
        return t.filter(t[key].isin(p.filter(p.rep_id.isin(ids))[key]))
    leads, opps = ws.table("leads"), ws.table("opportunities")
    accounts = ibis.union(leads.filter(leads.rep_id.isin(ids)).select("account_id"),
                          opps.filter(opps.rep_id.isin(ids)).select("account_id"))
    return t.filter(t.account_id.isin(accounts.account_id))


def _where(ws: Any, table: str, t: ibis.Table, where: Mapping[str, Any]) -> ibis.Table:
    """Dimension filters: the table's own, else its lead's or opportunity's (stage events)."""
    catalog.load()  # every derived column is declared
    scope = Scope(ws)
    own: dict[str, Any] = {}
    parent: dict[str, Any] = {}
    for name, value in where.items():
        try:
            registry.resolve(scope, table, name)
            own[name] = value
        except QueryError:
            if table not in VIA:
                raise
            parent[name] = value
    if own:
        t = registry.apply_where(registry.with_dimensions(scope, table, t, list(own)), own)
    if parent:
        key, parent_table = VIA[table]
        p = registry.with_dimensions(scope, parent_table, ws.table(parent_table), list(parent))
        t = t.filter(t[key].isin(registry.apply_where(p, parent)[key]))
    return t


def _time_column(table: str, date_column: str | None) -> str | None:
    if date_column is None:
        return TIME_COLUMNS.get(table)
    spec = TABLES.get(table)
    kinds = {c.name: c.kind for c in spec.columns} if spec else {}
    if kinds.get(date_column) is not Kind.TIMESTAMP:
        times = [n for n, k in kinds.items() if k is Kind.TIMESTAMP]
        raise QueryError(f"date_column for {table} must be one of {', '.join(times) or 'none'}")
    return date_column


def filtered(ws: Any, who: Principal, table: str, *, where: Mapping[str, Any],
             start: Any = None, end: Any = None, date_column: str | None = None) -> ibis.Table:
    """The table's rows the caller may see, filtered; columns as stored."""
    t = ws.table(table)
    columns = list(t.columns)
    if who.rep_ids is not None:
        t = _scoped(ws, table, t, who.rep_ids)
    if where:
        t = _where(ws, table, t, where)
    time_col = _time_column(table, date_column)
    if (start or end) and time_col is None:
        raise QueryError(f"{table} has no time column to filter by date")
    tz = ws.config.timezone
    if start:
        t = t.filter(t[time_col] >= parse_instant(parse_date(start, "start"), tz))
    if end:
        after = parse_date(end, "end") + dt.timedelta(days=1)
        t = t.filter(t[time_col] < parse_instant(after, tz))
    spec = TABLES.get(table)
    order = [c for c in dict.fromkeys([time_col, *(spec.key if spec else ())]) if c in columns]
    return t.select(*columns).order_by(order or columns[:1])


def page(session: Session, who: Principal, table: str, *, where: Mapping[str, Any],
         start: Any = None, end: Any = None, date_column: str | None = None, limit: int = 100,
         offset: int = 0) -> tuple[int, pd.DataFrame]:
    """(rows matching in total, this page of them)."""
    _check_table(who, table)
    check_dates(start, end, None, None, "UTC")
    key = ("rows", table, who.key, frozen(dict(where)), start, end, date_column, limit, offset)

    def compute(ws: Any) -> tuple[int, pd.DataFrame]:
        t = filtered(ws, who, table, where=where, start=start, end=end, date_column=date_column)
        total = int(t.count().execute())
        return total, t.limit(limit, offset=offset).execute()

    return session.cached(key, compute)


def all_rows(session: Session, who: Principal, table: str, *, where: Mapping[str, Any],
             start: Any = None, end: Any = None, date_column: str | None = None,
             limit: int = 100_000) -> pd.DataFrame:
    """Up to `limit` matching rows, for exports (not cached: exports are one-off)."""
    _check_table(who, table)
    check_dates(start, end, None, None, "UTC")
    t = filtered(session.ws, who, table, where=where, start=start, end=end,
                 date_column=date_column)
    return t.limit(limit).execute()
