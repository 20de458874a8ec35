"""Time-series forecasts of count, sum and snapshot metrics by exponential smoothing (ETS).

Hyndman, Koehler, Ord & Snyder (2008), "Forecasting with Exponential Smoothing: The State Space
Approach": every combination of additive or multiplicative error, no/additive trend (damped or
not) and no/additive/multiplicative seasonality is fitted by maximum likelihood
(statsmodels' `ETSModel`: installed with the project, imported only here, when asked) and the
one with the smallest AICc is kept, as R's `forecast::ets` does. Multiplicative parts need a
positive series. Seasonality needs two whole seasons of history; with less, only non-seasonal
models are tried and the answer says so (additive error with multiplicative seasonality is
left out, as R's `ets` does by default: its forecast variance is unbounded); with fewer than 4 periods the forecast is the last
value (naive) with its note. Intervals are the model's prediction intervals (80% and 95%).

The history is the catalogue's own rows (`ws.metric`) for the whole periods before the instant;
the back-test MAPE refits the chosen form without the last `horizon` periods (at most a season)
and scores its forecast of them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from funnelmetrics.compile.time import Grain, floor, shift
from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

SEASON = {Grain.DAY: 7, Grain.WEEK: 52, Grain.MONTH: 12, Grain.QUARTER: 4, Grain.YEAR: 1}
FORECASTABLE = ("count", "sum", "snapshot")
MIN_PERIODS = 4


class ETSForecast:
    """ETS chosen by AICc (Hyndman et al. 2008); `fit(y)` returns self.

    Fitted: `spec_` (error, trend, damped, seasonal), `name_` (e.g. "ETS(A,Ad,M)"), `aicc_`,
    `note_` (why a simpler model was used, or None)."""

    def __init__(self, *, season: int = 12) -> None:
        self.season = season

    def candidates(self, y: np.ndarray) -> list[tuple[str, str | None, bool, str | None]]:
        positive = bool(np.all(y > 0))
        errors = ("add", "mul") if positive else ("add",)
        seasonal_ok = self.season > 1 and len(y) >= 2 * self.season
        seasons: tuple[str | None, ...] = (None,)
        if seasonal_ok:
            seasons = (None, "add", "mul") if positive else (None, "add")
        trends = ((None, False), ("add", False), ("add", True))
        # as R's forecast::ets (restrict = TRUE): no additive error with multiplicative
        # seasonality, whose forecast variance is unbounded
        return [(e, t, d, s) for e, (t, d), s in itertools.product(errors, trends, seasons)
                if not (e == "add" and s == "mul")]

    def fit(self, y: Any) -> ETSForecast:
        self.y_ = np.asarray(y, dtype=float)
        self.note_: str | None = None
        if len(self.y_) < MIN_PERIODS:
            self.spec_, self.name_, self.aicc_, self.result_ = None, "naive", None, None
            self.note_ = (f"fewer than {MIN_PERIODS} periods of history: the last value "
                          "(naive forecast), no interval")
            return self
        if self.season > 1 and len(self.y_) < 2 * self.season:
            self.note_ = (f"fewer than 2 seasons ({2 * self.season} periods) of history: "
                          "non-seasonal models only")
        best = None
        for spec in self.candidates(self.y_):
            res = _fit(self.y_, spec, self.season)
            if res is None or not np.isfinite(res.aicc):
                continue
            if best is None or res.aicc < best[1].aicc:
                best = (spec, res)
        if best is None:
            raise QueryError("no exponential smoothing model fits this series")
        self.spec_, self.result_ = best
        self.aicc_ = float(self.result_.aicc)
        e, t, d, s = self.spec_
        self.name_ = "ETS({},{}{},{})".format(e[0].upper(), "N" if t is None else "A",
                                             "d" if d else "", "N" if s is None else s[0].upper())
        return self

    def forecast(self, horizon: int) -> list[dict[str, float | None]]:
        """Point forecast and 80%/95% intervals for the next `horizon` periods."""
        if self.result_ is None:
            last = float(self.y_[-1]) if len(self.y_) else None
            return [{"value": last, "lower_80": None, "upper_80": None, "lower_95": None,
                     "upper_95": None} for _ in range(horizon)]
        n = len(self.y_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.result_.get_prediction(start=n, end=n + horizon - 1,
                                               simulate_repetitions=2000, rng=0)
            f80, f95 = pred.summary_frame(alpha=0.2), pred.summary_frame(alpha=0.05)
        return [{"value": float(f80["mean"].iloc[k]),
                 "lower_80": float(f80["pi_lower"].iloc[k]),
                 "upper_80": float(f80["pi_upper"].iloc[k]),
                 "lower_95": float(f95["pi_lower"].iloc[k]),
                 "upper_95": float(f95["pi_upper"].iloc[k])} for k in range(horizon)]

    def backtest_mape(self, horizon: int) -> float | None:
        """MAPE of the chosen form refitted without its last h periods (h = horizon, at most a
        season), on those periods; None when too short or an actual is 0."""
        h = max(1, min(horizon, self.season))
        if self.result_ is None or len(self.y_) - h < MIN_PERIODS:
            return None
        train, test = self.y_[:-h], self.y_[-h:]
        spec = self.spec_
        if spec[3] is not None and len(train) < 2 * self.season:
            spec = (spec[0], spec[1], spec[2], None)
        res = _fit(train, spec, self.season)
        if res is None or np.any(test == 0):
            return None
        pred = np.asarray(res.forecast(h), dtype=float)
        return float(np.mean(np.abs(pred - test) / np.abs(test)))


def _fit(y: np.ndarray, spec: tuple[str, str | None, bool, str | None], season: int) -> Any:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    error, trend, damped, seasonal = spec
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ETSModel(pd.Series(y), error=error, trend=trend, damped_trend=damped,
                             seasonal=seasonal, seasonal_periods=season if seasonal else None)
            return model.fit(disp=False)
    except (ValueError, np.linalg.LinAlgError):
        return None


def metric_forecast(ws: Workspace, metric_id: str, *, grain: str = "month", horizon: int = 12,
                    as_of: str | None = None, **query: Any) -> dict[str, Any]:
    """The `forecast METRIC` answer: the catalogue's rows for the whole periods before the
    instant as `history`, the forecast `rows` after them, the model and its back-test MAPE."""
    from funnelmetrics import catalog
    from funnelmetrics.compile.time import parse_instant

    metric = catalog.get(metric_id)
    if metric.kind.value not in FORECASTABLE:
        raise QueryError(f"{metric_id} is a {metric.kind.value} metric: forecasts are for count, "
                         "sum and snapshot metrics")
    g = Grain(grain)
    if g not in SEASON:
        raise QueryError(f"--grain {grain!r}: use day, week, month, quarter or year")
    if not 1 <= horizon <= 120:
        raise QueryError(f"--horizon {horizon}: use 1 to 120 periods")
    moment = parse_instant(as_of, ws.config.timezone) or dt.datetime.now(dt.UTC).replace(
        tzinfo=None)
    first_open = floor(moment.date(), g)  # the period holding the instant is not over
    df = ws.metric(metric_id, grain=g.value, end=(first_open - dt.timedelta(days=1)).isoformat(),
                   as_of=moment.isoformat(), **query)
    if "partial" in df.columns:
        df = df[~df["partial"].astype(bool)]
    values = df["value"].astype(float).fillna(0.0).to_numpy()
    starts = [dt.date.fromisoformat(str(p)[:10]) for p in df["period_start"]]
    model = ETSForecast(season=SEASON[g]).fit(values)
    nxt = shift(starts[-1], g) if starts else first_open
    rows = [{"period_start": shift(nxt, g, k).isoformat(), **r}
            for k, r in enumerate(model.forecast(horizon))]
    return {"metric": metric_id, "unit": metric.unit.value, "forecast": "ets",
            "model": model.name_, "aicc": model.aicc_, "grain": g.value,
            "as_of": moment.date().isoformat(), "backtest_mape": model.backtest_mape(horizon),
            "note": model.note_,
            "history": [{"period_start": s.isoformat(), "value": float(v)}
                        for s, v in zip(starts, values, strict=True)],
            "rows": rows}
