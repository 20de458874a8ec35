"""Back-test of the bookings forecast: re-run as of each past period start, with only what was
known then (the semantic model's as-of view), against what actually closed in that period (the
catalogue's `won_revenue`), beside two naive baselines:

- last period: the previous period's bookings (`won_revenue` of the period before);
- pipeline × win rate: the open pipeline at the period start (`pipeline_value` at the previous
  period's end, as of the start) × the historical win rate up to then (`win_rate`, grain all).

Per period: P50 absolute percentage error, signed error (bias) and whether the actual fell in
P10-P90; overall: MAPE (mean absolute percentage error), mean bias, P10-P90 coverage, and the
baselines' MAPE and bias with how much ours is better (percentage points and relative). A
period with no bookings has no percentage error (null), never a division by zero.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from funnelmetrics.compile.time import Grain, floor, local_to_utc, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.pipeline import GRAINS, PipelineForecast

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace


def _values(df: Any) -> dict[str, float | None]:
    out = {}
    for row in df.to_dict("records"):
        v = row["value"]
        out[str(row["period_start"])[:10]] = None if v is None or v != v else float(v)
    return out


def percentage_error(forecast: float | None, actual: float | None) -> float | None:
    """(forecast - actual) / actual; null without a forecast or when the actual is 0."""
    if forecast is None or actual is None or actual == 0:
        return None
    return (forecast - actual) / actual


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def baselines(ws: Workspace, grain: Grain, start: dt.date) -> dict[str, float | None]:
    """The two naive forecasts of the period starting at `start`, from the catalogue as it
    stood at that instant."""
    previous = shift(start, grain, -1)
    last_day = start - dt.timedelta(days=1)
    pipeline, rate = ws.metrics([
        ("pipeline_value", {"grain": grain.value, "start": previous.isoformat(),
                            "end": last_day.isoformat()}),
        ("win_rate", {"grain": "all", "end": last_day.isoformat()})],
        as_of=start.isoformat())
    pv = _values(pipeline).get(previous.isoformat())
    wr = next(iter(_values(rate).values()), None)
    return {"pipeline_x_win_rate": None if pv is None or wr is None else pv * wr}


def backtest(ws: Workspace, *, grain: str = "month", periods: int = 12,
             as_of: dt.datetime | None = None, simulations: int = 2000,
             seed: int = 0) -> dict[str, Any]:
    """Forecast each of the last `periods` whole periods before `as_of` (default now) as of its
    start, horizon 1, and score it against what closed (see the module doc)."""
    g = Grain(grain)
    if g not in GRAINS:
        raise QueryError(f"--grain {grain!r}: use month or quarter for a bookings back-test")
    if not 1 <= periods <= 60:
        raise QueryError(f"--periods {periods}: use 1 to 60")
    tz = ws.config.timezone
    now = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    current = floor(_local_date(now, tz), g)
    starts = [shift(current, g, -k) for k in range(periods, 0, -1)]
    (won,) = ws.metrics([("won_revenue", {"grain": g.value,
                                          "start": shift(starts[0], g, -1).isoformat(),
                                          "end": (current - dt.timedelta(days=1)).isoformat()})],
                        as_of=now.isoformat())
    actual = _values(won)
    rows = []
    for start in starts:
        moment = local_to_utc(dt.datetime.combine(start, dt.time()), tz)
        f = PipelineForecast(grain=g.value, horizon=1, simulations=simulations,
                             seed=seed).fit(ws, as_of=moment)
        total = f.rows()[0]["total"]
        got = actual.get(start.isoformat())
        last = actual.get(shift(start, g, -1).isoformat())
        naive = baselines(ws, g, start)["pipeline_x_win_rate"]
        rows.append({
            "period_start": start.isoformat(), "actual": got, "p10": total["p10"],
            "p50": total["p50"], "p90": total["p90"], "expected": total["expected"],
            "error": percentage_error(total["p50"], got),
            "covered": None if got is None else bool(total["p10"] <= got <= total["p90"]),
            "last_period": last, "last_period_error": percentage_error(last, got),
            "pipeline_x_win_rate": naive,
            "pipeline_x_win_rate_error": percentage_error(naive, got)})
    return {"forecast": "backtest", "grain": g.value,
            "as_of": _local_date(now, tz).isoformat(), "rows": rows,
            "overall": summary(rows)}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """MAPE, bias and coverage of ours and the baselines, and by how much ours is better."""
    def score(key: str) -> dict[str, float | None]:
        errors = [r[key] for r in rows]
        return {"mape": _mean([None if e is None else abs(e) for e in errors]),
                "bias": _mean(errors)}

    ours = score("error")
    covered = [r["covered"] for r in rows if r["covered"] is not None]
    ours["coverage_p10_p90"] = float(np.mean(covered)) if covered else None
    out: dict[str, Any] = {"periods": len(rows), "model": ours}
    for name in ("last_period", "pipeline_x_win_rate"):
        base = score(f"{name}_error")
        better = (None if base["mape"] is None or ours["mape"] is None
                  else {"mape_points": base["mape"] - ours["mape"],
                        "relative": (1 - ours["mape"] / base["mape"]) if base["mape"] else None})
        out[name] = {**base, "model_better_by": better}
    return out


def _local_date(moment: dt.datetime, tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).date()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def describe(overall: dict[str, Any]) -> list[str]:
    """The overall scores in words: ours, then each baseline and by how much ours is better."""
    ours = overall["model"]
    lines = [f"model: MAPE {_pct(ours['mape'])}, bias {_pct(ours['bias'])}, P10-P90 coverage "
             f"{_pct(ours['coverage_p10_p90'])} over {overall['periods']} periods"]
    for name, label in (("last_period", "last period's bookings"),
                        ("pipeline_x_win_rate", "open pipeline × win rate")):
        base = overall[name]
        better = base["model_better_by"]
        gap = ("" if better is None else
               f" — ours better by {better['mape_points'] * 100:.1f} points"
               f" ({_pct(better['relative'])} of its error)")
        lines.append(f"{label}: MAPE {_pct(base['mape'])}, bias {_pct(base['bias'])}{gap}")
    return lines
