"""Rule-based models (SPEC §4): each touch's share of its journey is a fixed rule of its position.

Every weight is an Ibis window expression over the journey (partitioned by lead, ordered by
(occurred_at, channel)), so the whole model runs in the database. Rules follow the usual vendor
definitions (Google Analytics' former "attribution models" help page; Salesforce B2B Marketing
Analytics "W-shaped"; Bizible/Marketo Measure "U-shaped" 40/20/40) as fixed by issue #4.
"""

from __future__ import annotations

import math
from typing import Any

import ibis

from funnelmetrics.attribution.base import RuleModel
from funnelmetrics.errors import QueryError


class FirstTouch(RuleModel):
    """All credit to the journey's first touch."""

    name = "first_touch"

    def weight(self, t: ibis.Table) -> ibis.Value:
        return ibis.ifelse(t._rn == 0, 1.0, 0.0)


class LastTouch(RuleModel):
    """All credit to the last touch at or before the conversion."""

    name = "last_touch"

    def weight(self, t: ibis.Table) -> ibis.Value:
        return ibis.ifelse(t._rn == t._n - 1, 1.0, 0.0)


class Linear(RuleModel):
    """Equal credit to every touch of the journey (a channel touched twice gets two shares)."""

    name = "linear"

    def weight(self, t: ibis.Table) -> ibis.Value:
        return 1.0 / t._n.cast("float64")


class TimeDecay(RuleModel):
    """Credit halving every `half_life_days` before the conversion.

    Weight 2^(−Δt / half-life) with Δt = conversion instant − touch time (exact elapsed days),
    normalised per journey. Computed relative to the journey's last touch — the same shares after
    normalisation — so that very old touches never underflow to zero together.
    """

    name = "time_decay"

    def __init__(self, *, half_life_days: float = 7.0) -> None:
        if not half_life_days > 0:
            raise QueryError(f"half_life_days must be positive, not {half_life_days}")
        self.half_life_days = float(half_life_days)

    def window_columns(self, t: ibis.Table, w: Any) -> dict[str, ibis.Value]:
        return {"_last": t.occurred_at.max().over(w)}

    def prepare(self, t: ibis.Table) -> ibis.Table:
        age = (t._last.epoch_seconds() - t.occurred_at.epoch_seconds()).cast("float64")
        rate = math.log(2.0) / (self.half_life_days * 86_400.0)
        return t.mutate(_raw=(-age * rate).exp())

    def weight(self, t: ibis.Table) -> ibis.Value:
        return t._raw / t._raw.sum().over(group_by=t.lead_id)


class PositionBased(RuleModel):
    """U-shaped: `first_share` to the first touch, `last_share` to the last, the rest shared.

    Defaults 40/20/40. One touch gets everything; two touches split first:last (50/50 by
    default); with three or more, the middle touches share 1 − first − last equally.
    """

    name = "position_based"

    def __init__(self, *, first_share: float = 0.4, last_share: float = 0.4) -> None:
        if first_share < 0 or last_share < 0 or first_share + last_share > 1 or \
                first_share + last_share == 0:
            raise QueryError("position_based: shares must be ≥ 0, sum to at most 1 and not both 0")
        self.first_share = float(first_share)
        self.last_share = float(last_share)

    def weight(self, t: ibis.Table) -> ibis.Value:
        f, last = self.first_share, self.last_share
        n = t._n.cast("float64")
        return ibis.cases(
            (t._n == 1, 1.0),
            (t._n == 2, ibis.ifelse(t._rn == 0, f / (f + last), last / (f + last))),
            (t._rn == 0, f),
            (t._rn == t._n - 1, last),
            else_=(1.0 - f - last) / (n - 2.0),
        )


class WShaped(RuleModel):
    """W-shaped: 30% each to three anchors, 10% shared by the other touches.

    Anchors: the first touch; the lead-creation touch (the last touch at or before the lead's
    created_at); the opportunity-creation touch (the last touch at or before the created_at of
    the lead's first opportunity, when that opportunity was created at or before the
    conversion). Fallbacks: anchors that fall on the same touch add their shares on it; a missing
    anchor's share is spread over the present anchors equally (each holds the same share, so
    "proportionally"); with no touch left over, the rest share goes to the anchors the same way.
    With `rest_share` r the anchors hold (1 − r) between them.
    """

    name = "w_shaped"

    def __init__(self, *, rest_share: float = 0.1) -> None:
        if not 0 <= rest_share < 1:
            raise QueryError(f"w_shaped: rest_share must be in [0, 1), not {rest_share}")
        self.rest_share = float(rest_share)

    def window_columns(self, t: ibis.Table, w: Any) -> dict[str, ibis.Value]:
        # Touches are ordered by time first, so the last touch at or before an instant is at
        # position (number of touches at or before it) − 1: plain counts over the same window.
        opp_ok = t.opp_created_at.notnull() & (t.opp_created_at <= t.converted_at)
        return {
            "_n_lead": _flag(t.occurred_at <= t.lead_created_at).sum().over(w),
            "_n_opp": _flag((opp_ok & (t.occurred_at <= t.opp_created_at)).fill_null(False))
            .sum().over(w),
        }

    def prepare(self, t: ibis.Table) -> ibis.Table:
        null = ibis.null("int64")
        t = t.mutate(_lead_rn=ibis.ifelse(t._n_lead > 0, t._n_lead - 1, null),
                     _opp_rn=ibis.ifelse(t._n_opp > 0, t._n_opp - 1, null))
        lead_new = t._lead_rn.notnull() & (t._lead_rn != 0)
        opp_new = t._opp_rn.notnull() & (t._opp_rn != 0) & (
            t._lead_rn.isnull() | (t._opp_rn != t._lead_rn))
        return t.mutate(
            _anchor=(_flag(t._rn == 0) + _flag((t._rn == t._lead_rn).fill_null(False))
                     + _flag((t._rn == t._opp_rn).fill_null(False))),
            _anchors=1 + _flag(t._lead_rn.notnull()) + _flag(t._opp_rn.notnull()),
            # touches that hold no anchor: all but the distinct anchor positions
            _n_rest=t._n - 1 - _flag(lead_new) - _flag(opp_new),
        )

    def weight(self, t: ibis.Table) -> ibis.Value:
        r = self.rest_share
        anchor_mass = ibis.ifelse(t._n_rest > 0, 1.0 - r, 1.0)
        per_anchor = anchor_mass / t._anchors.cast("float64")
        rest = ibis.ifelse(t._anchor == 0, r / t._n_rest.cast("float64"), 0.0)
        return per_anchor * t._anchor.cast("float64") + rest


def _flag(condition: ibis.Value) -> ibis.Value:
    """1 where `condition` holds, else 0, as int64 (PostgreSQL casts no boolean to bigint)."""
    return ibis.ifelse(condition, 1, 0).cast("int64")
