"""`forecast` (bookings, backtest or a metric) and `ltv` (sbg, bgnbd or simple): the forecasts of
`funnelmetrics.forecast`, rendered. Thin: parse the options, ask the library, print.

JSON is the library's object as it is, on one line; table and CSV flatten its rows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from funnelmetrics.cli.app import (
    DEFAULT_DB,
    AsOfOption,
    DbOption,
    FormatOption,
    OutputFormat,
    app,
    handle_errors,
    open_workspace,
)
from funnelmetrics.cli.render import print_csv, print_json_line, print_notes, print_table

if TYPE_CHECKING:
    import pandas as pd

GrainOption = Annotated[str, typer.Option("--grain", help="month or quarter (bookings); day, "
                                          "week, month, quarter or year (a metric).")]


class LtvModel(StrEnum):
    sbg = "sbg"
    bgnbd = "bgnbd"
    simple = "simple"


def _render(rows: list[dict[str, Any]], obj: dict[str, Any], fmt: OutputFormat, *, title: str,
            units: dict[str, str], currency: str, notes: list[str] | None = None) -> None:
    import pandas as pd

    if fmt is OutputFormat.json:
        print_json_line(obj)
        return
    df: pd.DataFrame = pd.DataFrame(rows)
    if fmt is OutputFormat.csv:
        print_csv(df)
        return
    print_table(df, title=title, units=units, currency=currency)
    print_notes([n for n in notes or [] if n])


def _instant(ws: Any, as_of: str | None) -> Any:
    from funnelmetrics.compile.time import parse_instant

    return parse_instant(as_of, ws.config.timezone)


def bookings_rows(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per period: open, new and total expected/P10/P50/P90."""
    out = []
    for row in obj["rows"]:
        flat: dict[str, Any] = {"period_start": row["period_start"]}
        for part in ("open_pipeline", "new_pipeline", "total"):
            for key in ("expected", "p10", "p50", "p90", "deals"):
                if key in row[part]:
                    flat[f"{part}_{key}"] = row[part][key]
        out.append(flat)
    return out


@app.command("forecast")
@handle_errors
def forecast_cmd(
    target: Annotated[str, typer.Argument(
        help="bookings, backtest, or a count/sum/snapshot metric id (e.g. leads_created).")],
    db: DbOption = DEFAULT_DB,
    grain: GrainOption = "month",
    horizon: Annotated[int, typer.Option("--horizon", help="Periods ahead.")] = 3,
    by: Annotated[str | None, typer.Option(
        "--by", help="bookings: a column of opportunities to segment deals by (default: "
                     "their size band).")] = None,
    periods: Annotated[int, typer.Option(
        "--periods", help="backtest: how many past periods to re-forecast.")] = 12,
    simulations: Annotated[int, typer.Option("--simulations", help="Monte Carlo runs.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo seed.")] = 0,
    deals: Annotated[bool, typer.Option(
        "--deals", help="bookings: list each open deal, our win probability beside the "
                        "CRM's.")] = False,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Forecast bookings (open pipeline by Monte Carlo + new pipeline: P10/P50/P90 per
    period), back-test it against what closed and two naive baselines, or forecast a metric by
    ETS (80%/95% intervals and back-test MAPE)."""
    from funnelmetrics.errors import QueryError

    if not 1 <= simulations <= 100_000:
        raise QueryError(f"--simulations {simulations}: use 1 to 100,000")
    with open_workspace(db, read_only=True) as ws:
        currency = ws.config.currency
        if target == "bookings":
            from funnelmetrics.forecast.pipeline import bookings_forecast

            obj = bookings_forecast(ws, as_of=_instant(ws, as_of), grain=grain, horizon=horizon,
                                    by=by, simulations=simulations, seed=seed, deals=deals)
            _render(bookings_rows(obj), obj, fmt, title=f"Bookings forecast as of "
                    f"{obj['as_of']} (by {obj['grain']})",
                    units={k: "currency" for r in bookings_rows(obj) for k in r
                           if not k.endswith(("period_start", "deals"))}, currency=currency)
            if deals and fmt is OutputFormat.table:
                _render(obj["deals"], obj, fmt, title="Open deals: win probability",
                        units={"amount": "currency", "win_probability": "ratio",
                               "crm_probability": "ratio"}, currency=currency)
        elif target == "backtest":
            from funnelmetrics.forecast.backtest import backtest, describe

            obj = backtest(ws, grain=grain, periods=periods, as_of=_instant(ws, as_of),
                           simulations=min(simulations, 2000), seed=seed)
            units = {k: "currency" for k in ("actual", "p10", "p50", "p90", "expected",
                                             "last_period", "pipeline_x_win_rate")}
            units.update({k: "ratio" for k in ("error", "last_period_error",
                                               "pipeline_x_win_rate_error")})
            _render(obj["rows"], obj, fmt, title=f"Bookings back-test (by {obj['grain']})",
                    units=units, currency=currency, notes=describe(obj["overall"]))
        else:
            from funnelmetrics.forecast.series import metric_forecast

            obj = metric_forecast(ws, target, grain=grain, horizon=horizon, as_of=as_of)
            unit = obj["unit"]
            _render(obj["rows"], obj, fmt, title=f"{target}: {obj['model']} forecast",
                    units={k: unit for k in ("value", "lower_80", "upper_80", "lower_95",
                                             "upper_95")}, currency=currency,
                    notes=[obj["note"], _mape_note(obj["backtest_mape"])])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _mape_note(mape: float | None) -> str:
    return f"back-test MAPE of this model: {_pct(mape)}"


@app.command("ltv")
@handle_errors
def ltv_cmd(
    db: DbOption = DEFAULT_DB,
    model: Annotated[LtvModel, typer.Option("--model", help="sbg, bgnbd or simple.")] =
    LtvModel.sbg,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="sbg: month, quarter or year (default month); bgnbd: day, week or "
                       "month (default week).")] = None,
    calibration_end: Annotated[str | None, typer.Option(
        "--calibration-end", help="bgnbd: the last day of purchases used (default "
                                  "yesterday).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="bgnbd: account_id lists each account.")] = None,
    horizon: Annotated[int, typer.Option(
        "--horizon", help="bgnbd: months of CLV; sbg: periods of projected survival.")] = 12,
    discount_rate: Annotated[float, typer.Option(
        "--discount-rate", help="Annual discount rate.")] = 0.10,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Customer lifetime value: sBG per acquisition cohort (subscriptions), BG/NBD + Gamma-Gamma
    over repeat won deals, or the catalogue's simple LTV (and LTV:CAC by channel)."""
    from funnelmetrics.errors import QueryError

    if not 0 <= discount_rate < 1:
        raise QueryError(f"--discount-rate {discount_rate}: use a rate from 0 to 1")
    if not 1 <= horizon <= 120:
        raise QueryError(f"--horizon {horizon}: use 1 to 120")
    with open_workspace(db, read_only=True) as ws:
        currency = ws.config.currency
        if model is LtvModel.sbg:
            from funnelmetrics.forecast.ltv import sbg_cohorts

            rows = sbg_cohorts(ws, unit=unit or "month", as_of=_instant(ws, as_of),
                               discount_rate=discount_rate, horizon=horizon)
            if fmt is OutputFormat.json:
                for row in rows:
                    print_json_line(row)
                return
            flat = [{k: v for k, v in r.items()
                     if k not in ("model", "unit", "survivors", "survival", "retention")}
                    for r in rows]
            _render(flat, {}, fmt, title=f"sBG LTV by acquisition cohort ({unit or 'month'})",
                    units={"ltv": "currency", "ltv_p10": "currency", "ltv_p90": "currency",
                           "mrr": "currency"}, currency=currency)
        elif model is LtvModel.bgnbd:
            from funnelmetrics.compile.time import parse_date
            from funnelmetrics.forecast.ltv import bgnbd_ltv

            if by not in (None, "account_id"):
                raise QueryError(f"--by {by!r}: bgnbd lists accounts with --by account_id")
            obj = bgnbd_ltv(ws, unit=unit or "week",
                            calibration_end=parse_date(calibration_end, "--calibration-end"),
                            horizon_months=horizon, discount_rate=discount_rate,
                            by_account=by == "account_id")
            if fmt is OutputFormat.json:
                print_json_line(obj)
                return
            summary_row = {k: v for k, v in obj.items() if k != "rows"}
            _render(obj.get("rows") or [summary_row], obj, fmt, title="BG/NBD + Gamma-Gamma",
                    units={"clv": "currency", "expected_spend": "currency",
                           "clv_mean": "currency", "clv_p10": "currency",
                           "clv_p90": "currency", "p_alive": "ratio"}, currency=currency)
        else:
            _simple(ws, fmt, as_of, currency)


def _simple(ws: Any, fmt: OutputFormat, as_of: str | None, currency: str) -> None:
    """The catalogue's LTV over all time and LTV:CAC by channel (SPEC §3 ltv, ltv_to_cac)."""
    from funnelmetrics import catalog
    from funnelmetrics.serialize import records

    ltv, ratio = ws.metrics([("ltv", {"grain": "all"}),
                             ("ltv_to_cac", {"grain": "all", "by": "channel"})], as_of=as_of)
    obj = {"model": "simple", "ltv": records(ltv), "ltv_to_cac": records(ratio)}
    if fmt is OutputFormat.json:
        print_json_line(obj)
        return
    for df, metric_id, title in ((ltv, "ltv", "LTV (catalogue)"),
                                 (ratio, "ltv_to_cac", "LTV:CAC by channel")):
        _render(records(df), obj, fmt, title=title,
                units={"value": catalog.get(metric_id).unit.value}, currency=currency)
