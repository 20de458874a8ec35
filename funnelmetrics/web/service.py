"""What the REST API and the pages ask the library, scoped to the caller and cached.

Nothing here computes a figure: metrics come from `ws.metric`, the funnel from `ws.funnel`,
attribution from `funnelmetrics.attribution`. This module checks the query, adds the caller's
scope (a `where` on `rep_id`), and remembers results for the current version of the workspace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric
from funnelmetrics.compile.time import parse_date, parse_instant
from funnelmetrics.errors import QueryError
from funnelmetrics.query import kept_frame, metric_expr
from funnelmetrics.semantic import registry
from funnelmetrics.semantic.model import Scope
from funnelmetrics.serialize import metric_frame
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.users import Role

MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_ROWS = 100_000  # the most rows of one metric answer (`create_app(max_rows=)`)
# Entity keys a viewer may still split by: reps (a leaderboard) and campaigns name no customer.
SHOWN_KEYS = frozenset({"rep_id", "campaign_id"})
SHOWN_ENTITIES = frozenset({"rep", "campaign"})  # their names too (rep.name, campaign.name)
# Columns that name a person or a company (account.name, a contact's email…).
PERSONAL = frozenset({"name", "first_name", "last_name", "full_name", "contact_name",
                      "account_name", "company_name", "email", "phone"})
MAX_PERIODS = 5000
GRAIN_DAYS = {"day": 1, "week": 7, "month": 28, "quarter": 90, "year": 365, "all": 10**9}


def pairs(values: Sequence[str] | None, what: str) -> dict[str, Any]:
    """`KEY=VALUE` strings into a dict; a repeated key collects a list (either value)."""
    out: dict[str, Any] = {}
    for pair in values or []:
        key, sep, value = str(pair).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise QueryError(f"{what} takes KEY=VALUE, not {pair!r}")
        if key in out:
            out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
        else:
            out[key] = value
    return out


def frozen(value: Any) -> Any:
    """A hashable copy of a query value (dicts and lists), for cache keys."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set):
        return tuple(frozen(v) for v in value)
    return value


# ---- catalogue --------------------------------------------------------------------------------
def known_metric(metric_id: str) -> Metric:
    """The catalogue entry, or 404."""
    if metric_id not in {m.id for m in catalog.all_metrics()}:
        raise HTTPException(404, f"unknown metric {metric_id!r}; see /api/v1/catalog")
    return catalog.get(metric_id)


def has_metric(*metric_ids: str) -> bool:
    known = {m.id for m in catalog.all_metrics()}
    return all(m in known for m in metric_ids)


def catalog_entries(lang: str) -> list[dict[str, Any]]:
    return [{
        "id": m.id, "name": m.name(lang), "description": m.description(lang),
        "unit": m.unit.value, "group": m.group, "higher_is_better": m.higher_is_better,
        "is_ratio": m.is_ratio, "formula": m.formula, "entity": m.entity, "time": m.time.value,
        "benchmark": list(m.benchmark) if m.benchmark else None,
        "params": [{"name": p.name, "default": _plain(p.default), "description": p.description,
                    "choices": list(p.choices) if p.choices else None, "kind": p.kind}
                   for p in m.params],
    } for m in catalog.all_metrics()]


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


# ---- checks -----------------------------------------------------------------------------------
def check_dates(start: Any, end: Any, as_of: Any, grain: str | None, tz: str) -> None:
    """Dates the backend can hold, and not millions of periods (user errors, not crashes)."""
    days = []
    for what, value in (("start", start), ("end", end)):
        d = parse_date(value, what)
        if d is not None and not MIN_YEAR <= d.year <= MAX_YEAR:
            raise QueryError(f"{what}: {d} is out of range ({MIN_YEAR}–{MAX_YEAR})")
        days.append(d)
    moment = parse_instant(as_of, tz)
    if moment is not None and not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise QueryError(f"as_of: {moment} is out of range ({MIN_YEAR}–{MAX_YEAR})")
    lo, hi = days
    if lo and hi and grain in GRAIN_DAYS and (hi - lo).days / GRAIN_DAYS[grain] > MAX_PERIODS:
        raise QueryError(f"{grain} periods from {lo} to {hi} are more than {MAX_PERIODS}; "
                         "use a coarser grain or a shorter range")


def check_params(metric: Metric, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as one value each, numbers finite (the library parses them)."""
    out = {}
    for name, value in params.items():
        if isinstance(value, list):
            raise QueryError(f"parameter {name!r} given more than once")
        param = metric.param(name)
        if param is not None and param.kind == "number":
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise QueryError(f"{metric.id}: {name} must be a number, not {value!r}") from None
            if not math.isfinite(number) or number <= 0:
                raise QueryError(f"{metric.id}: {name} must be a positive number")
        out[name] = value
    return out


def identifying_columns() -> frozenset[str]:
    """Columns that single out one record: every entity's `*_id` key as the semantic model
    declares it (lead_id, opportunity_id, account_id, respondent_id, …), bar `SHOWN_KEYS`,
    and names and contact details (`PERSONAL`)."""
    catalog.load()  # every entity is declared
    keys = {c for e in registry.ENTITIES.values() for c in e.key if c.endswith("_id")}
    return frozenset(keys - SHOWN_KEYS) | PERSONAL


def check_aggregate_only(who: Principal, dims: Sequence[str], what: str) -> None:
    """A viewer sees aggregates only: no split, filter or value list by a column that
    identifies one lead, deal, account or respondent (a group of one is a row)."""
    if who.role is not Role.VIEWER:
        return
    identifying = identifying_columns()
    for dim in dims:
        for part in (p.strip() for p in str(dim).split(",")):
            owner, _, column = part.rpartition(".")
            if column in identifying - PERSONAL or "email" in column:
                reason = "would show single records"
            elif column in PERSONAL and not owner:
                reason = "may name a person or company (say rep.name or campaign.name)"
            elif column in PERSONAL and owner.rsplit(".", 1)[-1] not in SHOWN_ENTITIES:
                reason = "names a person or company"
            else:
                continue
            raise HTTPException(403, f"viewers see aggregates only: {what} by {part!r} "
                                     f"{reason}")


def scoped_where(who: Principal, where: Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's filters plus their scope: a rep or manager only ever sees their reps."""
    out = dict(where or {})
    if who.rep_ids is None:
        return out
    allowed = set(who.rep_ids)
    if "rep_id" in out:
        asked = out["rep_id"] if isinstance(out["rep_id"], list) else [out["rep_id"]]
        kept = [str(v) for v in asked if str(v) in allowed]
        if not kept:
            raise HTTPException(403, "you may only see the rows of your own reps")
        out["rep_id"] = kept
    else:
        out["rep_id"] = sorted(allowed)
    return out


def _unscopable(who: Principal, exc: QueryError, what: str) -> None:
    """A scoped caller asked for data that has no rep: refuse rather than show everything."""
    if who.rep_ids is not None and "'rep_id'" in str(exc):
        raise HTTPException(403, f"{what} cannot be limited to your reps' rows, so your role "
                                 "cannot see it") from None


# ---- metrics, funnel, attribution -------------------------------------------------------------
def metric(session: Session, who: Principal, metric_id: str, *, grain: str = "month",
           by: Sequence[str] = (), start: Any = None, end: Any = None,
           where: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
           as_of: Any = None) -> pd.DataFrame:
    """`ws.metric(...)` for the caller in the SPEC §5 layout (`serialize.metric_frame`):
    period_start, dims, value, numerator, denominator, [immature], partial."""
    entry = known_metric(metric_id)
    params = check_params(entry, params or {})
    check_dates(start, end, as_of, str(grain).lower(), "UTC")
    check_aggregate_only(who, [*by, *(where or {})], f"metric {metric_id}")
    where = scoped_where(who, where)
    query = {"grain": grain, "by": list(by), "start": start, "end": end, "where": where,
             "params": params, "as_of": as_of}
    cap = session.source.max_rows

    def compute(ws: Any, query: dict[str, Any] = query) -> pd.DataFrame:
        # one row past the cap tells an answer too large without fetching all of it; the
        # error is raised inside, so nothing is cached
        df = kept_frame(ws, metric_id, surface="web", limit=cap + 1, **query)  # asked before
        if df is None:  # a query that cannot be kept (`query.kept_query`)
            expr = metric_expr(ws, metric_id, **query).limit(cap + 1)
            df = expr.to_pyarrow().to_pandas(date_as_object=True)
        if len(df) > cap:
            raise QueryError(f"metric {metric_id}: the answer has more than {cap:,} rows; "
                             "narrow it: fewer `by` dimensions, a coarser grain, a shorter "
                             "start/end range or a `where` filter")
        return metric_frame(df)

    key = ("metric", metric_id, frozen(query))
    try:
        if who.rep_ids is None and (cut := one_value(where)) is not None:
            def sliced() -> pd.DataFrame:
                part = _sliced(session, metric_id, query, *cut, compute)
                if part is None:
                    raise _NoSlice
                return part

            with contextlib.suppress(_NoSlice):  # kept as the request's own answer
                return session.remember(key, sliced, cheap=True)
        return session.cached(key, compute)
    except QueryError as exc:
        _unscopable(who, exc, f"metric {metric_id}")
        raise


# ---- a filter value: a slice of the answer split by its dimension ------------------------------
# Filtering a metric on one value of a dimension gives, by the catalogue's definition, the rows
# that splitting it by that dimension gives for that value: each group of a split is computed
# over exactly the rows the filter keeps (dimensions are text; `registry.apply_where` compares
# text; the spine × the groups seen). So the answer split by the filter's dimension, asked once
# per query shape, is a pre-aggregate per period and dimension value: every other value of that
# filter — the dashboard's filters clicked through — is a slice of it, with no query
# (tests/test_web_slices.py checks the whole catalogue against the filtered queries).
class _NoSlice(Exception):
    """No slice to be had: the filtered query answers."""


def one_value(where: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(dimension, value) when the filter is one text value of one dimension, else None."""
    if not where or len(where) != 1:
        return None
    (dim, value), = where.items()
    return (str(dim), value) if isinstance(value, str) and value else None


def _sliced(session: Session, metric_id: str, query: Mapping[str, Any], dim: str, value: str,
            compute: Any) -> pd.DataFrame | None:
    """The rows of `dim` = `value` in the answer split by `dim` as well (computed once for the
    query shape and kept), or None when that answer is not to be had — too many rows, an
    error (the filtered query then says why), or no row of the value (the filtered query's
    empty periods are its own to fill) — or the split column is not text."""
    by = list(query["by"])
    whole_query = {**query, "by": by if dim in by else [*by, dim], "where": None}

    def whole(ws: Any) -> pd.DataFrame | None:
        try:
            return compute(ws, whole_query)
        except QueryError:  # kept as "not to be had": the filtered query answers instead
            return None

    df = session.cached(("metric-split", metric_id, frozen(whole_query)), whole)
    if df is None or dim not in df.columns:
        return None
    col = df[dim]
    if not all(v is None or isinstance(v, str) for v in col.dropna().head(1000)):
        return None
    part = df[col == value]
    if part.empty:
        return None
    if dim not in by:
        part = part.drop(columns=[dim])
    return part.reset_index(drop=True)


def funnel(session: Session, who: Principal, *, start: Any = None, end: Any = None,
           funnel_name: str | None = None, by: str | None = None,
           where: Mapping[str, Any] | None = None, mode: str | None = None,
           as_of: Any = None) -> pd.DataFrame:
    """`funnel_table(ws, ...)` for the caller: per stage reached, conversion, drop-off, days."""
    from funnelmetrics.funnel import funnel_table

    check_dates(start, end, as_of, None, "UTC")
    check_aggregate_only(who, [*([by] if by else []), *(where or {})], "the funnel")
    where = scoped_where(who, where)
    query = {"start": start, "end": end, "funnel": funnel_name, "by": by, "where": where,
             "mode": mode, "as_of": as_of}
    try:
        return session.cached(("funnel", frozen(query)), lambda ws: funnel_table(ws, **query))
    except QueryError as exc:
        _unscopable(who, exc, "the funnel")
        raise


def attribution(session: Session, who: Principal, *, model: str = "all", by: str = "channel",
                conversion: str = "won", start: Any = None, end: Any = None,
                as_of: Any = None) -> dict[str, pd.DataFrame]:
    """{model: table of channel, credited_conversions, credited_revenue, spend, roi}."""
    import funnelmetrics.attribution as attr

    check_dates(start, end, as_of, None, "UTC")
    runner = getattr(attr, "attribute_models", None)
    query: dict[str, Any] = {"by": by, "conversion": conversion, "start": start, "end": end,
                             "as_of": as_of}
    if who.rep_ids is not None:
        takes_where = runner is not None and "where" in inspect.signature(runner).parameters
        if not takes_where:
            raise HTTPException(403, "attribution cannot be limited to your reps' rows yet, so "
                                     "your role cannot see it")
        query["where"] = scoped_where(who, None)

    def compute(ws: Any) -> dict[str, pd.DataFrame]:
        if runner is not None:
            return runner(ws, model, **query)
        return {model: attr.attribute(ws, model=model, **query)}

    return session.cached(("attribution", model, frozen(query)), compute)


def view(session: Session, who: Principal, module: str, function: str,
         **query: Any) -> pd.DataFrame:
    """A library view such as `funnelmetrics.revenue.movements.mrr_waterfall(ws, **query)`,
    scoped to the caller (its `where`) and cached."""
    fn = _library_function(module, function)
    check_dates(query.get("start"), query.get("end"), query.get("as_of"), query.get("grain"),
                "UTC")
    by = query.get("by")
    check_aggregate_only(who, [*([by] if isinstance(by, str) else by or []),
                               *(query.get("where") or {})], function)
    if who.rep_ids is not None:
        if "where" not in inspect.signature(fn).parameters:
            raise HTTPException(403, f"{function} cannot be limited to your reps' rows, so your "
                                     "role cannot see it")
        query["where"] = scoped_where(who, query.get("where"))
    try:
        return session.cached(("view", module, function, frozen(query)),
                              lambda ws: fn(ws, **query))
    except QueryError as exc:
        _unscopable(who, exc, function)
        raise


def _library_function(module: str, function: str) -> Any:
    return getattr(importlib.import_module(module), function)


# ---- dimensions -------------------------------------------------------------------------------
# The entities whose dimensions the API lists (the tables a dashboard filters).
DIMENSION_ENTITIES = ("leads", "opportunities", "quotas", "spend", "touchpoints", "subscriptions",
                      "engagement_events", "survey_responses")


def dimensions(session: Session, entity: str = "leads") -> list[str]:
    """Every dimension an entity can be split or filtered by (its semantic declaration)."""
    if entity not in DIMENSION_ENTITIES:
        raise HTTPException(404, f"unknown entity {entity!r}; entities: "
                                 f"{', '.join(DIMENSION_ENTITIES)}")
    catalog.load()  # every derived column is declared
    return session.cached(("dimensions", entity),
                          lambda ws: registry.dimensions(Scope(ws), entity))


def dimension_values(session: Session, who: Principal, name: str, *, entity: str = "leads",
                     limit: int = 200) -> list[str | None]:
    """The distinct values of a dimension in the caller's rows (most frequent first)."""
    check_aggregate_only(who, [name], "listing values")
    where = scoped_where(who, None)

    def compute(ws: Any) -> list[str | None]:
        catalog.load()  # every derived column is declared
        scope = Scope(ws)
        t = registry.with_dimensions(scope, entity, registry.base(scope, entity),
                                     [name, *where])
        t = registry.apply_where(t, where)
        col = t[f"dim:{name}"]
        counts = t.group_by(v=col).aggregate(n=t.count())
        df = counts.order_by([counts.n.desc(), counts.v]).limit(limit).execute()
        return [None if v is None or v != v else str(v) for v in df.v]

    try:
        return session.cached(("values", entity, name, frozen(where), limit), compute)
    except QueryError as exc:
        _unscopable(who, exc, f"dimension {name}")
        raise


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
