"""What every attribution model shares: fit on journeys, then read `credits_` (the lifetimes habit).

A model credits only the converted journeys that have at least one touch; conversions with no
touch in their journey go to "(no touch)" whole, in every model (SPEC §4), so that the credited
totals always equal the converted totals — nothing created, nothing lost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import ibis
import pandas as pd

from funnelmetrics.attribution.journeys import NO_TOUCH, Journeys, Summary

CREDIT_COLUMNS = ["key", "credited_conversions", "credited_revenue"]


class AttributionModel(ABC):
    """Base of the models. Configuration is keyword-only; `fit` returns `self`.

    Fitted attributes: `credits_` (a DataFrame with `key`, `credited_conversions`,
    `credited_revenue`, "(no touch)" included), `summary_` (the converted totals) and `by_`.
    """

    name: ClassVar[str]

    credits_: pd.DataFrame
    summary_: Summary
    by_: str

    def fit(self, journeys: Journeys) -> Self:
        """Credit the conversions (and their value) of `journeys` to channels or campaigns."""
        summary = journeys.summary
        frames = [self._credit(journeys)]
        if summary.no_touch_conversions:
            frames.append(pd.DataFrame({
                "key": [NO_TOUCH], "credited_conversions": [float(summary.no_touch_conversions)],
                "credited_revenue": [summary.no_touch_value]}))
        frames = [f for f in frames if len(f)]
        credits = pd.concat(frames, ignore_index=True) if frames else _empty()
        self.credits_ = credits[CREDIT_COLUMNS].astype(
            {"key": "object", "credited_conversions": "float64", "credited_revenue": "float64"})
        self.summary_ = summary
        self.by_ = journeys.by
        return self

    @abstractmethod
    def _credit(self, journeys: Journeys) -> pd.DataFrame:
        """Credits of the converted journeys that have touches: `key` and the two sums."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


class RuleModel(AttributionModel):
    """A model whose credit is a weight per touch, computed in the database.

    Subclasses give `weight(t)`: an Ibis expression over the journey's touches `t` (with `_rn`,
    the 0-based position in the journey, and `_n`, its length) whose values sum to 1 over every
    journey. The credit is then one grouped sum: no Python loop over journeys.
    """

    @abstractmethod
    def weight(self, t: ibis.Table) -> ibis.Value:
        """Each touch's share of its journey's conversion."""

    def weighted(self, journeys: Journeys) -> ibis.Table:
        """The journeys' touches with `_weight`; extra columns are window-computed helpers."""
        t = journeys.touches
        w = journeys.window(t)
        t = t.mutate(_rn=ibis.row_number().over(w), _n=t.count().over(w),
                     **self.window_columns(t, w))
        t = self.prepare(t)
        return t.mutate(_weight=self.weight(t))

    def window_columns(self, t: ibis.Table, w: Any) -> dict[str, ibis.Value]:
        """More aggregates over the journey window `w`, computed in the same pass as `_rn`."""
        return {}

    def prepare(self, t: ibis.Table) -> ibis.Table:
        """Columns `weight` needs, from the window columns (row expressions where possible)."""
        return t

    def credit_expr(self, journeys: Journeys) -> ibis.Table:
        """The whole credit as one Ibis expression (`ibis.to_sql` shows the SQL)."""
        t = self.weighted(journeys)
        return t.group_by("key").aggregate(
            credited_conversions=t._weight.sum(),
            credited_revenue=(t._weight * t.value).sum(),
        )

    def _credit(self, journeys: Journeys) -> pd.DataFrame:
        return self.credit_expr(journeys).execute()


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"key": pd.Series(dtype="object"),
                         "credited_conversions": pd.Series(dtype="float64"),
                         "credited_revenue": pd.Series(dtype="float64")})
