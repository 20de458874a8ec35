"""REST endpoints of the insights (issue 15): findings, explain-change, pipeline change,
benchmark status and alerts, under /api/v1 — what the CLI prints, as JSON.

Roles as in `web.api`: a rep or a scoped manager gets everything limited to their reps' rows
(detectors that cannot be limited are left out, never shown whole); a viewer gets no finding
that names one deal, account or lead (an identifying key), and cannot split by one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from funnelmetrics.web import service
from funnelmetrics.web.api import ERRORS, AsOfQ, ParamQ, SessionDep, WhereQ, Who, on_loop
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session

ALL = 10_000  # findings kept per computation (the top N is cut per request)
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["insights"])
Lang = Literal["en", "id", "ms"]
Grain = Literal["day", "week", "month", "quarter", "year"]
PeriodQ = Annotated[str | None, Query(description="YYYY-MM, YYYY-Qn, YYYY or a day in the "
                                                  "period (default: the last full one).")]


def _period(period: Any, grain: str, as_of: str | None, tz: str) -> Any:
    from funnelmetrics.compile.time import parse_instant
    from funnelmetrics.insights.findings import parse_period

    moment = parse_instant(as_of, tz) if as_of else None
    return parse_period(period, grain, today=moment.date() if moment else None)


def visible(who: Principal, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A viewer's findings: none that names a record by an identifying key."""
    if who.role.value != "viewer":
        return findings
    keys = service.identifying_columns()
    return [f for f in findings if f.get("dimension") not in keys]


def insights_for(session: Session, who: Principal, *, period: Any, grain: str,
                 lang: str, top: int, as_of: str | None,
                 where: dict[str, Any] | None = None) -> dict[str, Any]:
    """The insights for the caller (cached per scope and filter); shared by the API and the
    page, with `rows`: the table and filter behind each finding."""
    from funnelmetrics.insights.report import insights

    service.check_dates(None, None, as_of, None, "UTC")
    service.check_aggregate_only(who, list(where or {}), "insights")
    where = service.scoped_where(who, where)
    from funnelmetrics.insights.messages import describe

    tz, currency = session.cached(("config_tz_currency",),
                                  lambda ws: (ws.config.timezone, ws.config.currency))
    p = _period(period, grain, as_of, tz)
    # every finding, computed once per period and scope; the language and the cut per request
    key = ("insights", p.start, p.grain.value, as_of, service.frozen(where))
    answer = session.cached(key, lambda ws: insights(ws, p, top=ALL, as_of=as_of, where=where))
    kept = [f for f in answer["_findings"] if visible(who, [f.to_json("")])][:top]
    return {"period": answer["period"], "findings": describe(kept, lang, currency),
            "rows": [f.rows for f in kept], "skipped": answer["skipped"]}


@router.get("/insights", summary="Where the funnel leaks, and why")
@on_loop
def get_insights(session: SessionDep, who: Who, period: PeriodQ = None, grain: Grain = "month",
                 lang: Lang = "en", top: Annotated[int, Query(ge=1, le=50)] = 10,
                 where: WhereQ = [], as_of: AsOfQ = None) -> dict[str, Any]:  # noqa: B006
    """The period's top findings ordered by impact (value in the reporting currency) within
    tiers — leaks against the baseline, against the rest, changes, value at stake, status —
    each with a message in `lang`: `{"period": P, "findings": [{"kind",
    "metric", "from_stage", "to_stage", "dimension", "dimension_value", "current", "baseline",
    "p_value", "p_adjusted", "impact", "message"}]}` — as `funnelmetrics insights --format
    json` prints."""
    answer = insights_for(session, who, period=period, grain=grain, lang=lang, top=top,
                          as_of=as_of, where=service.pairs(where, "where"))
    return {"period": answer["period"], "findings": answer["findings"]}


@router.get("/insights/explain-change", summary="A change as volume × mix × rate")
@on_loop
def get_explain_change(session: SessionDep, who: Who, metric: str = "bookings",
                       by: str = "source", period: PeriodQ = None,
                       against: PeriodQ = None, grain: Grain = "month",
                       param: ParamQ = [], where: WhereQ = [],  # noqa: B006
                       as_of: AsOfQ = None) -> dict[str, Any]:
    """A change in `bookings`, `won_deals`, `conversions` (or a ratio metric's numerator)
    from `against` (default: the period before) to `period`, per value of `by`: volume, mix
    and rate effects summing exactly to the change."""
    from funnelmetrics.insights.explain import explain_change
    from funnelmetrics.insights.findings import parse_period

    filters = service.pairs(where, "where")
    service.check_aggregate_only(who, [by, *filters], "explain-change")
    scoped = service.scoped_where(who, filters)
    params = service.pairs(param, "param")
    tz = session.cached(("config_tz",), lambda ws: ws.config.timezone)
    p = _period(period, grain, as_of, tz)
    a = parse_period(against, grain) if against else None
    key = ("explain", metric, by, p.start, a.start if a else None, p.grain.value,
           service.frozen(params), service.frozen(scoped), as_of)
    return session.cached(key, lambda ws: explain_change(
        ws, metric, p, by=by, against=a, params=params, where=scoped, as_of=as_of).to_json())


@router.get("/insights/pipeline-change", summary="Pipeline waterfall between two days")
@on_loop
def get_pipeline_change(session: SessionDep, who: Who,
                        start: Annotated[str, Query(description="YYYY-MM-DD")],
                        end: Annotated[str, Query(description="YYYY-MM-DD")],
                        close_from: str | None = None,
                        close_to: str | None = None) -> dict[str, Any]:
    """Open pipeline at the end of `start` → new, increased, decreased, pulled in, pushed
    out, won, lost → at the end of `end` (the parts sum to the change). Whole-workspace
    figures: not for roles limited to their reps."""
    from funnelmetrics.compile.time import parse_date
    from funnelmetrics.insights.waterfall import pipeline_waterfall

    if who.rep_ids is not None:
        raise HTTPException(403, "the pipeline waterfall cannot be limited to your reps' rows "
                                 "yet, so your role cannot see it")
    days = [parse_date(v, n) for v, n in ((start, "start"), (end, "end"),
                                          (close_from, "close_from"), (close_to, "close_to"))]
    return session.cached(("pipeline_change", *days), lambda ws: pipeline_waterfall(
        ws, days[0], days[1], close_from=days[2], close_to=days[3]).to_json())


@router.get("/benchmarks", summary="Benchmark status of every benchmarked metric")
@on_loop
def get_benchmarks(session: SessionDep, who: Who, period: PeriodQ = None,
                   grain: Grain = "month", as_of: AsOfQ = None) -> dict[str, Any]:
    """Each benchmarked metric's value for the period (your scope) against its industry range:
    `status` below / within / above, `good`, the range's `source` and `year`."""
    from funnelmetrics.insights.benchmarks import benchmark_status

    service.check_dates(None, None, as_of, None, "UTC")
    where = service.scoped_where(who, None)
    tz = session.cached(("config_tz",), lambda ws: ws.config.timezone)
    p = _period(period, grain, as_of, tz)
    rows = session.cached(("benchmarks", p.start, p.grain.value, as_of, service.frozen(where)),
                          lambda ws: benchmark_status(ws, p.start, p.end, grain=p.grain.value,
                                                      as_of=as_of, where=where))
    return {"period": p.label, "rows": rows}


@router.get("/alerts", summary="The alert rules that fire (not delivered)")
@on_loop
def get_alerts(session: SessionDep, who: Who, period: PeriodQ = None,
               as_of: AsOfQ = None, lang: Lang = "en") -> dict[str, Any]:
    """Every `[[alerts]]` rule of funnelmetrics.toml evaluated for the period (each at its own
    grain); the fired ones, as `funnelmetrics alerts --format json` prints them, without
    delivering. Rules read the whole workspace: admins and unscoped managers only."""
    from funnelmetrics.insights.alerts import run_alerts

    if who.rep_ids is not None or who.role.value == "viewer":
        raise HTTPException(403, "alerts read the whole workspace: your role cannot see them")
    service.check_dates(None, None, as_of, None, "UTC")
    stamp = dt.date.today() if period is None else period
    fired = session.cached(("alerts", stamp, as_of, lang),
                           lambda ws: run_alerts(ws, period, as_of=as_of, lang=lang))
    return {"alerts": fired}
