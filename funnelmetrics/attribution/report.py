"""Attribution results per channel or campaign: credit, spend, ROI (SPEC §4, issue #4 §3).

The credit (conversions and won revenue) is the model's. Every other figure is asked of the
catalogue (issue "One semantic model", item 4), with the query's range (whole days, `end`
inclusive; none given: every row) and as-of instant, in one `ws.metrics` batch:

- spend: `cost_per_lead`'s numerator, the marketing spend (category marketing, or none given)
  dated in the range — `spend.date` is a calendar date, read in no time zone — by channel (a row's
  own, else its campaign's) or by campaign id; spend with neither is "(unallocated)", spend with
  no campaign "(no campaign)";
- ROI: `marketing_roi` with the model as its `model` parameter, (credited won revenue − spend) /
  spend, when that metric credits what the report credits: the conversion stage is `won` (or the
  default funnel's last stage), no look-back, the model by name with its default settings, by
  channel (by campaign for the rule models, whose credit rows keep the touch's campaign: every
  campaign but "(no campaign)", whose catalogue group also holds the "(no touch)" revenue), a
  Markov chain fitted on every journey (no range: the catalogue's chain is fitted on all of
  them) and an exact Shapley value (12 channels or fewer). The catalogue places a deal's revenue
  in the range by its `closed_at`; the report by its lead's conversion instant (first `won`
  event): the same revenue when won deals close at their lead's `won` event.
  Otherwise (another conversion stage, a look-back, other settings, "(no campaign)") ROI is
  marketing_roi's formula over the row's own figures, (credited revenue − spend) / spend.
- cost per conversion is spend / credited conversions (no catalogue metric credits conversions).

Both ratios are null ("no data") when spend is 0 (SPEC §3: a ratio with a zero denominator is
null), cost per conversion also when nothing was credited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import numpy as np
import pandas as pd

from funnelmetrics.attribution.base import AttributionModel, RuleModel
from funnelmetrics.attribution.journeys import (
    NO_CAMPAIGN,
    NO_TOUCH,
    Journeys,
    build_journeys,
    credit_stage,
)
from funnelmetrics.attribution.markov import Markov
from funnelmetrics.attribution.models import MODELS, make_model, make_models, model_names

UNALLOCATED = "(unallocated)"
RESULT_COLUMNS = ["credited_conversions", "credited_revenue", "spend", "roi",
                  "cost_per_conversion"]
SPECIAL_KEYS = (NO_TOUCH, NO_CAMPAIGN, UNALLOCATED)
# The range of a catalogue query for a report without one: every day a row can have.
EVERY_DAY = (dt.date(1900, 1, 1), dt.date(9999, 12, 30))


def catalogue_query(journeys: Journeys) -> dict[str, Any]:
    """The catalogue query behind a report's spend and ROI: one period, the report's range (no
    bound given: every row — the metrics' own default range is not used, so that a report
    without a range sees all its spend), its split and its as-of instant."""
    as_of = None if journeys.as_of is None else journeys.as_of.replace(tzinfo=dt.UTC)
    return {"grain": "all", "by": journeys.by, "start": journeys.start or EVERY_DAY[0],
            "end": journeys.end or EVERY_DAY[1], "as_of": as_of}


def spend_expr(journeys: Journeys) -> ibis.Table:
    """Marketing spend by channel or campaign (`key`, `spend`): `cost_per_lead`'s numerator
    (see the module doc), as an Ibis expression."""
    t = journeys.ws.expr("cost_per_lead", **catalogue_query(journeys))
    t = t.filter(t[journeys.by].notnull() | (t.numerator != 0))
    return t.select(key=t[journeys.by].fill_null(_no_key(journeys.by)).cast("string"),
                    spend=t.numerator)


def _no_key(by: str) -> str:
    return UNALLOCATED if by == "channel" else NO_CAMPAIGN


def _spend_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """`cost_per_lead` rows → `key`, `spend` (its numerator): every channel or campaign the
    catalogue knows in the range (it had spend rows or brought leads), and the rows of neither
    when they cost something."""
    df = df[df[by].notna() | (df["numerator"] != 0)]
    return pd.DataFrame({"key": df[by].astype("object").where(df[by].notna(), _no_key(by)),
                         "spend": df["numerator"].astype("float64")}).reset_index(drop=True)


def _roi_series(df: pd.DataFrame, by: str) -> pd.Series:
    """`marketing_roi` rows → its value by key ("(unallocated)" for the null channel; by
    campaign the null group is left out: it is not the report's "(no campaign)")."""
    if by == "channel":
        keys = df[by].astype("object").where(df[by].notna(), UNALLOCATED)
    else:
        df = df[df[by].notna()]
        keys = df[by].astype("object")
    return pd.Series(df["value"].astype("float64").to_numpy(), index=pd.Index(keys))


def _settings(model: AttributionModel) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if not k.endswith("_")}


def credits_like_catalogue(journeys: Journeys, name: str, model: AttributionModel) -> bool:
    """Whether `marketing_roi` with `model=name` credits what the fitted `model` credits (see
    the module doc), so that the report's ROI can be read from it."""
    cls = MODELS.get(name)
    if cls is None or type(model) is not cls or _settings(model) != _settings(cls()):
        return False
    if journeys.conversion != credit_stage(journeys.ws.config) or journeys.lookback_days:
        return False
    if journeys.by != "channel" and not isinstance(model, RuleModel):
        return False  # Markov and Shapley credit channels only
    if isinstance(model, Markov) and (journeys.start or journeys.end):
        return False  # the catalogue's chain is fitted on every journey
    return getattr(model, "exact_", True)  # a sampled Shapley value is not the exact one


def results(journeys: Journeys, fitted: Mapping[str, AttributionModel]) -> dict[str, pd.DataFrame]:
    """The result table of every fitted model, with spend and ROI asked of the catalogue in one
    batch (`cost_per_lead`, and `marketing_roi` for the models it credits like)."""
    asked = [n for n, m in fitted.items() if credits_like_catalogue(journeys, n, m)]
    frames = journeys.ws.metrics(
        [("cost_per_lead", {}), *[("marketing_roi", {"params": {"model": n}}) for n in asked]],
        **catalogue_query(journeys))
    spend = _spend_table(frames[0], journeys.by)
    rois = {n: _roi_series(f, journeys.by) for n, f in zip(asked, frames[1:], strict=True)}
    return {n: result_table(m, spend, roi=rois.get(n)) for n, m in fitted.items()}


def result_table(model: AttributionModel, spend: pd.DataFrame,
                 roi: pd.Series | None = None) -> pd.DataFrame:
    """One row per channel/campaign: the SPEC §5 columns, best-credited first, specials last.

    `spend`: `key`, `spend` (see `spend_expr`); `roi`: `marketing_roi` by key where it applies
    (see the module doc). Keys it does not give take marketing_roi's formula over the row's
    figures (a key the catalogue has no row for has no spend: its ROI is null either way).
    """
    df = model.credits_.merge(spend, on="key", how="outer")
    for col in ("credited_conversions", "credited_revenue", "spend"):
        df[col] = df[col].astype("float64").fillna(0.0)
    paid = df["spend"] > 0
    formula = pd.Series(np.where(paid, (df["credited_revenue"] - df["spend"])
                                 / df["spend"].where(paid), np.nan), index=df.index)
    if roi is None:
        df["roi"] = formula
    else:
        asked = df["key"].isin(roi.index)
        df["roi"] = df["key"].map(roi).astype("float64").where(asked, formula)
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
    fitted = make_models(model_names(models), **params)
    with ws.batch():  # the journeys are computed once for the models and the catalogue's ROI
        journeys = build_journeys(ws, by=by, conversion=conversion, start=start, end=end,
                                  as_of=as_of, lookback_days=lookback_days)
        with journeys.materialized() as j:
            for m in fitted.values():
                m.fit(j)
        return results(journeys, fitted)


def attribute(ws: Any, model: str | AttributionModel = "linear", *, by: str = "channel",
              conversion: str = "won", start: Any = None, end: Any = None, as_of: Any = None,
              lookback_days: float | None = None, **params: Any) -> pd.DataFrame:
    """Credited conversions, credited revenue, spend, ROI and cost per conversion by `by`.

    `model`: a name (`first_touch`, `last_touch`, `linear`, `time_decay`, `position_based`,
    `w_shaped`, `markov`, `shapley`) with its parameters as keywords (`half_life_days=7`,
    `order=1`, `seed=0`, …), or a configured model instance.

    >>> attribute(ws, "time_decay", half_life_days=14, start="2026-01-01")  # doctest: +SKIP
    """
    model = make_model(model, **params)
    with ws.batch():
        journeys = build_journeys(ws, by=by, conversion=conversion, start=start, end=end,
                                  as_of=as_of, lookback_days=lookback_days)
        with journeys.materialized() as j:
            model.fit(j)
        return results(journeys, {model.name: model})[model.name]


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
