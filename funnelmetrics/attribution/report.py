"""Attribution results per channel or campaign: credit, spend, ROI (SPEC §4, issue #4 §3).

Spend is the `spend` table's marketing rows (category marketing, or none given) dated in the
query's range (whole local days) and before its as-of instant, by channel — a row without a
channel takes its campaign's channel from `campaigns` — or by campaign id. ROI is
(credited revenue − spend) / spend and cost per conversion spend / credited conversions, both null
("no data") when spend is 0 (SPEC §3: a ratio with a zero denominator is null).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import numpy as np
import pandas as pd

from funnelmetrics.attribution.base import AttributionModel
from funnelmetrics.attribution.journeys import (
    NO_CAMPAIGN,
    NO_TOUCH,
    Journeys,
    build_journeys,
    range_bounds,
    within,
)
from funnelmetrics.attribution.markov import Markov
from funnelmetrics.attribution.rules import (
    FirstTouch,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    WShaped,
)
from funnelmetrics.attribution.shapley import Shapley
from funnelmetrics.compile.entities import Scope, base
from funnelmetrics.errors import QueryError

UNALLOCATED = "(unallocated)"
MODELS: dict[str, type[AttributionModel]] = {
    m.name: m for m in (FirstTouch, LastTouch, Linear, TimeDecay, PositionBased, WShaped,
                        Markov, Shapley)
}
RESULT_COLUMNS = ["credited_conversions", "credited_revenue", "spend", "roi",
                  "cost_per_conversion"]
SPECIAL_KEYS = (NO_TOUCH, NO_CAMPAIGN, UNALLOCATED)


def model_names(model: str | Iterable[str]) -> list[str]:
    """`all`, one name, a comma-separated list or a list of names, checked."""
    names = [model] if isinstance(model, str) else list(model)
    names = [p.strip() for n in names for p in n.split(",") if p.strip()]
    if names == ["all"]:
        return list(MODELS)
    if not names:
        raise QueryError(f"name an attribution model: {', '.join(MODELS)} or all")
    for n in names:
        _known(n)
    return names


def _known(name: str) -> str:
    if name not in MODELS:
        raise QueryError(f"unknown attribution model {name!r}; models: {', '.join(MODELS)} or all")
    return name


def make_model(model: str | AttributionModel, **params: Any) -> AttributionModel:
    """A model from its name and the parameters it takes (others are ignored when it is one of
    several, see `make_models`)."""
    if isinstance(model, AttributionModel):
        if params:
            raise QueryError("pass parameters to the model's constructor, not with an instance")
        return model
    return make_models([_known(model)], **params)[model]


def make_models(names: Iterable[str], **params: Any) -> dict[str, AttributionModel]:
    """Models by name; each gets the parameters it accepts; a parameter none accepts is an error."""
    accepted: set[str] = set()
    models = {}
    for name in names:
        cls = MODELS[name]
        own = set(inspect.signature(cls.__init__).parameters) - {"self"}
        accepted |= own
        models[name] = cls(**{k: v for k, v in params.items() if k in own and v is not None})
    unknown = set(params) - accepted
    if unknown:
        raise QueryError(f"no attribution model here takes parameter {sorted(unknown)[0]!r}")
    return models


def spend_expr(journeys: Journeys) -> ibis.Table:
    """Marketing spend in the query's range by channel or campaign (`key`, `spend`)."""
    ws = journeys.ws
    s = base(Scope(ws, as_of=journeys.as_of), "spend")
    lo, hi = range_bounds(journeys.start, journeys.end, ws.config.timezone)
    s = s.filter(s.category.isnull() | (s.category == "marketing"), within(s.date, lo, hi))
    if journeys.by == "channel":
        camps = ws.table("campaigns")
        camps = camps.select(_cid=camps.campaign_id, _cch=camps.channel)
        s = s.left_join(camps, s.campaign_id == camps._cid)
        key = ibis.coalesce(s.channel, s._cch, ibis.literal(UNALLOCATED))
    else:
        key = s.campaign_id.fill_null(NO_CAMPAIGN)
    s = s.mutate(key=key.cast("string"))
    return s.group_by("key").aggregate(spend=s.amount.sum().cast("float64"))


def result_table(model: AttributionModel, spend: pd.DataFrame) -> pd.DataFrame:
    """One row per channel/campaign: the SPEC §5 columns, best-credited first, specials last."""
    df = model.credits_.merge(spend, on="key", how="outer")
    for col in ("credited_conversions", "credited_revenue", "spend"):
        df[col] = df[col].astype("float64").fillna(0.0)
    paid = df["spend"] > 0
    df["roi"] = np.where(paid, (df["credited_revenue"] - df["spend"]) / df["spend"].where(paid),
                         np.nan)
    converted = paid & (df["credited_conversions"] > 0)
    df["cost_per_conversion"] = np.where(
        converted, df["spend"] / df["credited_conversions"].where(converted), np.nan)
    df["_special"] = df["key"].isin(SPECIAL_KEYS)
    df = df.sort_values(["_special", "credited_revenue", "credited_conversions", "key"],
                        ascending=[True, False, False, True], ignore_index=True)
    return df.rename(columns={"key": model.by_})[[model.by_, *RESULT_COLUMNS]]


def attribute_models(ws: Any, models: str | Iterable[str] = "all", *, by: str = "channel",
                     conversion: str = "won", start: Any = None, end: Any = None,
                     as_of: Any = None, lookback_days: float | None = None,
                     **params: Any) -> dict[str, pd.DataFrame]:
    """Several models over the same journeys: {model name: result table}."""
    journeys = build_journeys(ws, by=by, conversion=conversion, start=start, end=end,
                              as_of=as_of, lookback_days=lookback_days)
    fitted = make_models(model_names(models), **params)
    spend = spend_expr(journeys).execute()
    with journeys.materialized() as j:
        return {name: result_table(m.fit(j), spend) for name, m in fitted.items()}


def attribute(ws: Any, model: str | AttributionModel = "linear", *, by: str = "channel",
              conversion: str = "won", start: Any = None, end: Any = None, as_of: Any = None,
              lookback_days: float | None = None, **params: Any) -> pd.DataFrame:
    """Credited conversions, credited revenue, spend, ROI and cost per conversion by `by`.

    `model`: a name (`first_touch`, `last_touch`, `linear`, `time_decay`, `position_based`,
    `w_shaped`, `markov`, `shapley`) with its parameters as keywords (`half_life_days=7`,
    `order=1`, `seed=0`, …), or a configured model instance.

    >>> attribute(ws, "time_decay", half_life_days=14, start="2026-01-01")  # doctest: +SKIP
    """
    journeys = build_journeys(ws, by=by, conversion=conversion, start=start, end=end,
                              as_of=as_of, lookback_days=lookback_days)
    model = make_model(model, **params)
    with journeys.materialized() as j:
        return result_table(model.fit(j), spend_expr(j).execute())


def side_by_side(results: Mapping[str, pd.DataFrame], *,
                 column: str = "credited_revenue") -> pd.DataFrame:
    """The models side by side: one row per channel/campaign, one `column` per model, spend."""
    if not results:
        return pd.DataFrame()
    first = next(iter(results.values()))
    by = first.columns[0]
    out = None
    for name, df in results.items():
        part = df[[by, column]].rename(columns={column: name})
        out = part if out is None else out.merge(part, on=by, how="outer")
    assert out is not None
    out = out.merge(first[[by, "spend"]], on=by, how="left")
    for col in out.columns[1:]:
        out[col] = out[col].astype("float64").fillna(0.0)
    out["_special"] = out[by].isin(SPECIAL_KEYS)
    lead = list(results)[0]
    out = out.sort_values(["_special", lead, by], ascending=[True, False, True],
                          ignore_index=True)
    return out.drop(columns="_special")


def credited_revenue(ws: Any, model: str | AttributionModel = "linear", *,
                     by: str = "channel", conversion: str = "won", start: Any = None,
                     end: Any = None, as_of: Any = None, lookback_days: float | None = None,
                     include_no_touch: bool = False, **params: Any) -> pd.Series:
    """Credited won revenue per channel (or campaign) for one model — for `marketing_roi`.

    A Series indexed by channel, named `credited_revenue`. Revenue of conversions with no touch
    is not marketing's and is left out unless `include_no_touch`.
    """
    journeys = build_journeys(ws, by=by, conversion=conversion, start=start, end=end,
                              as_of=as_of, lookback_days=lookback_days)
    with journeys.materialized() as j:
        credits = make_model(model, **params).fit(j).credits_
    if not include_no_touch:
        credits = credits[credits["key"] != NO_TOUCH]
    return pd.Series(credits["credited_revenue"].to_numpy(), dtype="float64",
                     index=pd.Index(credits["key"], name=by, dtype="object"),
                     name="credited_revenue")
