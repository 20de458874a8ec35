"""REST endpoints of the forecasts (issue 14) under /api/v1 — what `funnelmetrics forecast` and
`ltv` print, as JSON.

Roles: the bookings forecast, its back-test and the LTV models read the whole workspace (every
deal, account and subscription), so a rep or a manager limited to some reps gets 403 for them;
a metric forecast is limited to the caller's reps like every metric. A viewer gets aggregates
only: no list of deals (`deals=true`) or accounts (`by_account=true`), which name records by
an identifying key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from funnelmetrics.web import service
from funnelmetrics.web.api import ERRORS, AsOfQ, SessionDep, WhereQ, Who, on_loop
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["forecast"])
BookingsGrain = Literal["month", "quarter"]
SeriesGrain = Literal["day", "week", "month", "quarter", "year"]


def whole_workspace(who: Principal, what: str) -> None:
    """403 for a caller limited to some reps: `what` reads every deal or account."""
    if who.rep_ids is not None:
        raise HTTPException(403, f"{what} reads the whole workspace, so your role cannot see it")


def aggregates_only(who: Principal, listed: bool, what: str) -> None:
    if listed and not who.sees_rows:
        raise HTTPException(403, f"viewers see aggregates only, not {what}")


def instant(session: Session, as_of: str | None) -> Any:
    from funnelmetrics.compile.time import parse_instant

    tz = session.cached(("config_tz",), lambda ws: ws.config.timezone)
    service.check_dates(None, None, as_of, None, tz)
    return parse_instant(as_of, tz)


def bookings(session: Session, who: Principal, *, grain: str = "month", horizon: int = 3,
             as_of: str | None = None, by: str | None = None, deals: bool = False,
             simulations: int = 5000) -> dict[str, Any]:
    """The bookings forecast (cached); shared by the API and the Forecast page."""
    from funnelmetrics.forecast.pipeline import bookings_forecast

    whole_workspace(who, "the bookings forecast")
    aggregates_only(who, deals, "deals")
    moment = instant(session, as_of)
    key = ("forecast_bookings", grain, horizon, moment, by, deals, simulations)
    return session.cached(key, lambda ws: bookings_forecast(
        ws, as_of=moment, grain=grain, horizon=horizon, by=by, simulations=simulations,
        deals=deals))


def backtest(session: Session, who: Principal, *, grain: str = "month", periods: int = 12,
             as_of: str | None = None, simulations: int = 2000) -> dict[str, Any]:
    from funnelmetrics.forecast.backtest import backtest as run

    whole_workspace(who, "the bookings back-test")
    moment = instant(session, as_of)
    key = ("forecast_backtest", grain, periods, moment, simulations)
    return session.cached(key, lambda ws: run(ws, grain=grain, periods=periods, as_of=moment,
                                              simulations=simulations))


def metric(session: Session, who: Principal, metric_id: str, *, grain: str = "month",
           horizon: int = 12, as_of: str | None = None,
           where: dict[str, Any] | None = None) -> dict[str, Any]:
    from funnelmetrics.forecast.series import metric_forecast

    service.known_metric(metric_id)
    instant(session, as_of)
    scoped = service.scoped_where(who, where)
    key = ("forecast_metric", metric_id, grain, horizon, as_of, service.frozen(scoped))
    return session.cached(key, lambda ws: metric_forecast(
        ws, metric_id, grain=grain, horizon=horizon, as_of=as_of,
        **({"where": scoped} if scoped else {})))


def ltv(session: Session, who: Principal, *, model: str = "sbg", unit: str | None = None,
        calibration_end: str | None = None, by_account: bool = False,
        as_of: str | None = None) -> Any:
    from funnelmetrics.compile.time import parse_date
    from funnelmetrics.forecast.ltv import bgnbd_ltv, sbg_cohorts

    whole_workspace(who, "LTV")
    aggregates_only(who, by_account, "accounts")
    if model == "sbg":
        moment = instant(session, as_of)
        return {"model": "sbg", "cohorts": session.cached(
            ("ltv_sbg", unit, moment), lambda ws: sbg_cohorts(ws, unit=unit or "month",
                                                             as_of=moment))}
    end = parse_date(calibration_end, "calibration_end")
    return session.cached(("ltv_bgnbd", unit, end, by_account), lambda ws: bgnbd_ltv(
        ws, unit=unit or "week", calibration_end=end, by_account=by_account))


@router.get("/forecast/bookings", summary="Bookings forecast: P10/P50/P90 per period")
@on_loop
def get_bookings(session: SessionDep, who: Who, grain: BookingsGrain = "month",
                 horizon: Annotated[int, Query(ge=1, le=24)] = 3,
                 by: Annotated[str | None, Query(description="A column of opportunities "
                                                 "(default: the deal's size band).")] = None,
                 deals: bool = False, as_of: AsOfQ = None) -> dict[str, Any]:
    """`{"forecast": "bookings", "as_of", "grain", "rows": [{"period_start", "open_pipeline":
    {"expected", "p10", "p50", "p90", "deals"}, "new_pipeline": {…}, "total": {…}}]}` (and
    `deals`: each open deal's win probability beside the CRM's) — as `funnelmetrics forecast
    bookings --format json` prints."""
    return bookings(session, who, grain=grain, horizon=horizon, as_of=as_of, by=by,
                    deals=deals)


@router.get("/forecast/backtest", summary="Bookings forecast back-test against naive baselines")
@on_loop
def get_backtest(session: SessionDep, who: Who, grain: BookingsGrain = "month",
                 periods: Annotated[int, Query(ge=1, le=12)] = 6,
                 as_of: AsOfQ = None) -> dict[str, Any]:
    """The forecast re-run as of each of the last `periods` period starts against what closed:
    per period and overall MAPE, bias and P10-P90 coverage, beside last period's bookings and
    open pipeline × win rate."""
    return backtest(session, who, grain=grain, periods=periods, as_of=as_of)


@router.get("/forecast/metric/{metric_id}", summary="ETS forecast of a count or sum metric")
@on_loop
def get_metric_forecast(metric_id: str, session: SessionDep, who: Who,
                        grain: SeriesGrain = "month",
                        horizon: Annotated[int, Query(ge=1, le=120)] = 12,
                        where: WhereQ = [], as_of: AsOfQ = None) -> dict[str, Any]:  # noqa: B006
    """History (the catalogue's whole periods), forecast rows `{"period_start", "value",
    "lower_80", "upper_80", "lower_95", "upper_95"}`, the chosen model and its back-test
    MAPE."""
    return metric(session, who, metric_id, grain=grain, horizon=horizon, as_of=as_of,
                  where=service.pairs(where, "where"))


@router.get("/ltv", summary="Probabilistic customer lifetime value")
@on_loop
def get_ltv(session: SessionDep, who: Who, model: Literal["sbg", "bgnbd"] = "sbg",
            unit: str | None = None, calibration_end: str | None = None,
            by_account: bool = False, as_of: AsOfQ = None) -> Any:
    """`sbg`: one object per acquisition cohort (α, β, log-likelihood, survival, DERL, LTV
    and its P10-P90); `bgnbd`: BG/NBD and Gamma-Gamma parameters, CLV with its interval, and
    per account with `by_account=true`."""
    return ltv(session, who, model=model, unit=unit, calibration_end=calibration_end,
               by_account=by_account, as_of=as_of)
