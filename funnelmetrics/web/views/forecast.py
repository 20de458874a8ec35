"""Forecast page: a fan chart of bookings (P10-P90 around P50, beside what was booked), a fan
chart of a chosen count or sum metric (ETS, 80% and 95% intervals), the bookings back-test
against the naive baselines, and cohort survival curves (sBG). Every figure comes from
`funnelmetrics.forecast` through the cached API helpers (`web.api_forecast`), so the page and
the REST API agree; roles limited to some reps see only the metric forecast. The back-test
(a forecast per past period) runs when asked (`?backtest=1`), then stays cached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.errors import FunnelmetricsError
from funnelmetrics.i18n.ui import t
from funnelmetrics.web import service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import Card, Filters, TableView

DEFAULT_METRIC = "leads_created"
BAND = "rgba(37, 99, 235, 0.18)"
BAND_95 = "rgba(37, 99, 235, 0.10)"
LINE = "#2563eb"
ACTUAL = "#111827"


def fan(history: tuple[list[str], list[Any]], x: list[str], middle: list[Any],
        bands: list[tuple[str, list[Any], list[Any], str]], *, name: str) -> dict[str, Any]:
    """A fan chart spec: each band (label, low, high, fill) as a filled area, the middle line
    and the history before it."""
    data: list[dict[str, Any]] = []
    for label, low, high, fill in bands:
        data.append({"type": "scatter", "x": x, "y": low, "mode": "lines", "line": {"width": 0},
                     "showlegend": False, "hoverinfo": "skip"})
        data.append({"type": "scatter", "x": x, "y": high, "mode": "lines", "fill": "tonexty",
                     "fillcolor": fill, "line": {"width": 0}, "name": label})
    data.append({"type": "scatter", "x": x, "y": middle, "mode": "lines+markers",
                 "line": {"color": LINE, "width": 2}, "name": name})
    if history[0]:
        data.append({"type": "scatter", "x": history[0], "y": history[1],
                     "mode": "lines+markers", "line": {"color": ACTUAL, "width": 2},
                     "name": "actual"})
    return {"data": data, "layout": {"yaxis": {"tickformat": "~s", "rangemode": "tozero"},
                                     "hovermode": "x unified",
                                     "legend": {"orientation": "h", "y": -0.2}}}


def _safe(build: Any, title: str) -> Card:
    try:
        return build()
    except HTTPException as exc:
        return Card(title=title, note=str(exc.detail), wide=True)
    except FunnelmetricsError as exc:
        return Card(title=title, note=str(exc).splitlines()[0], wide=True)


def bookings_card(session: Session, who: Principal, f: Filters, grain: str) -> Card:
    from funnelmetrics.web.api_forecast import bookings

    title = t("bookings_forecast", f.lang)
    # the API's and the CLI's defaults (horizon 3, 5,000 runs): the same figure everywhere
    answer = bookings(session, who, grain=grain, as_of=f.as_of)
    rows = answer["rows"]
    x = [r["period_start"] for r in rows]
    past = service.metric(session, who, "won_revenue", grain=grain, as_of=f.as_of)
    past = past[~past["partial"].astype(bool)].tail(8) if "partial" in past else past.tail(8)
    history = ([str(p)[:10] for p in past["period_start"]],
               [None if v != v else float(v) for v in past["value"]])
    chart = fan(history, x, [r["total"]["p50"] for r in rows],
                [("P10–P90", [r["total"]["p10"] for r in rows],
                  [r["total"]["p90"] for r in rows], BAND)], name="P50")
    first = rows[0]["total"] if rows else None
    note = None if first is None else (
        f"{f.period_label(rows[0]['period_start'], grain)}: P50 {f.fmt(first['p50'], 'currency')}"
        f" (P10 {f.fmt(first['p10'], 'currency')} – P90 {f.fmt(first['p90'], 'currency')}); "
        f"as of {answer['as_of']}")
    return Card(title=title, chart=chart, note=note, wide=True)


def metric_card(session: Session, who: Principal, f: Filters, metric_id: str) -> Card:
    from funnelmetrics.web.api_forecast import metric

    m = service.known_metric(metric_id)
    grain = f.grain if f.grain in ("week", "month", "quarter") else "month"
    answer = metric(session, who, metric_id, grain=grain, horizon=6, as_of=f.as_of,
                    where=dict(f.where))
    rows = answer["rows"]
    history = answer["history"][-24:]
    chart = fan(([h["period_start"] for h in history], [h["value"] for h in history]),
                [r["period_start"] for r in rows], [r["value"] for r in rows],
                [("95%", [r["lower_95"] for r in rows], [r["upper_95"] for r in rows], BAND_95),
                 ("80%", [r["lower_80"] for r in rows], [r["upper_80"] for r in rows], BAND)],
                name=answer["model"])
    mape = answer["backtest_mape"]
    note = " · ".join(n for n in (answer["note"], None if mape is None else
                                  f"back-test MAPE {mape:.1%}") if n)
    return Card(title=f"{m.name(f.lang)} · {answer['model']}", chart=chart, note=note or None,
                wide=True)


def backtest_card(session: Session, who: Principal, f: Filters, grain: str) -> Card:
    from funnelmetrics.forecast.backtest import describe
    from funnelmetrics.web.api_forecast import backtest

    answer = backtest(session, who, grain=grain, periods=6, as_of=f.as_of, simulations=1000)

    def pct(v: Any) -> str:
        return "—" if v is None else f"{v:+.0%}"

    rows = [[f.period_label(r["period_start"], grain), f.fmt(r["actual"], "currency"),
             f.fmt(r["p10"], "currency"), f.fmt(r["p50"], "currency"),
             f.fmt(r["p90"], "currency"), pct(r["error"]),
             "✓" if r["covered"] else "✗" if r["covered"] is False else "—",
             pct(r["last_period_error"]), pct(r["pipeline_x_win_rate_error"])]
            for r in answer["rows"]]
    table = TableView(columns=["period", "actual", "P10", "P50", "P90", "P50 error",
                               "in P10–P90", "last period error", "pipeline × win rate error"],
                      rows=rows, numeric=[False, True, True, True, True, True, False, True,
                                          True])
    return Card(title=t("forecast_accuracy", f.lang), table=table,
                note=" · ".join(describe(answer["overall"])), wide=True)


def survival_card(session: Session, who: Principal, f: Filters) -> Card:
    from funnelmetrics.web.api_forecast import ltv

    answer = ltv(session, who, model="sbg", unit="quarter", as_of=f.as_of)
    fitted = [c for c in answer["cohorts"] if c["survival"]][-6:]
    data = []
    for c in fitted:
        observed = [n / c["survivors"][0] for n in c["survivors"]]
        data.append({"type": "scatter", "mode": "lines", "name": c["cohort"],
                     "x": list(range(len(c["survival"]))), "y": c["survival"],
                     "line": {"dash": "dot"}, "legendgroup": c["cohort"], "showlegend": False})
        data.append({"type": "scatter", "mode": "lines+markers", "name": c["cohort"],
                     "x": list(range(len(observed))), "y": observed,
                     "legendgroup": c["cohort"]})
    chart = {"data": data, "layout": {"yaxis": {"tickformat": ".0%", "range": [0, 1.02]},
                                      "xaxis": {"type": "linear", "dtick": 1, "rangemode": "tozero",
                                                "title": {"text": "quarters since start"}},
                                      "legend": {"orientation": "h", "y": -0.25}}}
    note = ("observed (solid) and sBG-projected (dotted) share of each quarterly cohort still "
            "paying" if fitted else "no cohort with two quarter ends and a churned account yet")
    return Card(title=t("cohort_survival", f.lang), chart=chart if fitted else None, note=note,
                wide=True)


def _with(args: Mapping[str, Any], **extra: str) -> str:
    from urllib.parse import urlencode

    items = [(k, v) for k, v in getattr(args, "multi_items", lambda: list(args.items()))()
             if k not in extra]
    return urlencode([*items, *extra.items()])


def page(session: Session, who: Principal, f: Filters, args: Mapping[str, Any]) -> dict[str, Any]:
    metric_id = str(args.get("metric") or DEFAULT_METRIC)
    f.extra["metric"] = metric_id
    grain = f.grain if f.grain in ("month", "quarter") else "month"
    cards = [_safe(lambda: bookings_card(session, who, f, grain), t("bookings_forecast", f.lang)),
             _safe(lambda: metric_card(session, who, f, metric_id), metric_id),
             _safe(lambda: backtest_card(session, who, f, grain),
                   t("forecast_accuracy", f.lang)) if args.get("backtest") else
             Card(title=t("forecast_accuracy", f.lang), wide=True,
                  note="re-forecasts each of the last 6 periods as it stood then (a minute or "
                       "more the first time; then cached)",
                  links=[("run the back-test", f"/forecast?{_with(args, backtest='1')}")]),
             _safe(lambda: survival_card(session, who, f), t("cohort_survival", f.lang))]
    choices = [(m.id, m.name(f.lang)) for m in catalog.all_metrics()
               if m.kind.value in ("count", "sum", "snapshot")]
    return {"cards": cards, "metric_id": metric_id, "choices": choices}
