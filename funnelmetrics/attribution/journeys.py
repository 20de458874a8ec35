"""Journeys: the touchpoints that led each lead to a conversion (SPEC §4 "Attribution", issue #4).

A *conversion* is the lead's first reach of the conversion stage (cumulative mode, SPEC §2: the
earliest event of that stage or any later stage of its funnel), valued by the sum of the lead's won
opportunity amounts (as of the query's instant). The conversion's *journey* is every touchpoint of
the lead at or before the conversion instant (and, with a look-back, no more than `lookback_days`
before it), ordered by (occurred_at, channel) — ties broken by channel so that every model is
deterministic. A lead that did not convert has a journey too (all its touches, ending at its last
touch); only Markov uses those.

A date range selects journeys by the instant they end: conversions whose conversion instant falls
in [start, end] (whole local days in the workspace time zone, `end` inclusive), and non-converting
journeys whose last touch does. Everything here is an Ibis expression; nothing runs until a model
fits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from funnelmetrics.compile.time import local_to_utc, parse_date, parse_instant
from funnelmetrics.errors import QueryError
from funnelmetrics.semantic.model import Scope
from funnelmetrics.semantic.registry import base

if TYPE_CHECKING:
    from funnelmetrics.config import Config
    from funnelmetrics.connection import Connection

BY = ("channel", "campaign_id")
NO_TOUCH = "(no touch)"
NO_CAMPAIGN = "(no campaign)"
START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"


@dataclass(frozen=True)
class Summary:
    """Converted journeys of a query: how many, their value, and those with no touch at all."""

    conversions: int
    value: float
    no_touch_conversions: int
    no_touch_value: float

    @property
    def touched_conversions(self) -> int:
        return self.conversions - self.no_touch_conversions

    @property
    def touched_value(self) -> float:
        return self.value - self.no_touch_value


@dataclass(frozen=True)
class Journeys:
    """The journeys of one attribution query, as Ibis expressions over the workspace.

    `touches`: the touchpoints of converted journeys, one row each, with the lead's
    `converted_at`, `value`, `lead_created_at` and `opp_created_at` (its first opportunity) and
    `key` (the channel or the campaign id credits go to). `paths`: the touchpoints of every
    journey, converted or not, with `converted`. `conversions`: one row per converted lead.
    `candidates`: every lead's touches up to its conversion if it converted (at any time),
    before the range and look-back are applied — what `paths` is cut from, for one-pass window
    queries that apply the cut themselves (see `Markov`). `lo`/`hi`: the range as UTC instants.
    """

    ws: Connection
    by: str
    conversion: str
    conversions: ibis.Table
    touches: ibis.Table
    paths: ibis.Table
    candidates: ibis.Table
    touchpoints: ibis.Table
    lo: dt.datetime | None = None
    hi: dt.datetime | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.datetime | None = None
    lookback_days: float | None = None

    @property
    def order_by(self) -> list[str]:
        """The journey order (SPEC §4): occurred_at, then channel (then the campaign)."""
        return ["occurred_at", "channel"] + (["key"] if self.by != "channel" else [])

    def window(self, t: ibis.Table) -> ibis.expr.builders.LegacyWindowBuilder:
        """Over each journey of `t`, in journey order."""
        return ibis.window(group_by=t.lead_id, order_by=[t[c] for c in self.order_by])

    def ordered(self, t: ibis.Table) -> ibis.Table:
        """`t` with `_rn` (0-based position in its journey) and `_n` (the journey's length)."""
        w = self.window(t)
        return t.mutate(_rn=ibis.row_number().over(w), _n=t.count().over(w))

    @contextmanager
    def materialized(self) -> Iterator[Journeys]:
        """These journeys with `conversions` and `touches` computed once into temporary tables
        (released on exit), so that the summary, the credit and the spend do not each redo the
        conversion and the join of the touchpoints."""
        conversions = self.conversions.cache()
        touches = None
        try:
            touches = _journey_touches(self.touchpoints, conversions, self.lookback_days).cache()
            yield replace(self, conversions=conversions, touches=touches)
        finally:
            for t in (touches, conversions):
                if t is not None:
                    t.release()

    @cached_property
    def summary(self) -> Summary:
        """Counts and value of the converted journeys, and of those with no touch."""
        touched = self.touches.select(_lid=self.touches.lead_id).distinct()
        c = self.conversions
        j = c.left_join(touched, c.lead_id == touched._lid)
        none = j._lid.isnull()
        row = j.aggregate(
            n=j.count(), v=j.value.sum(), n0=none.sum(), v0=j.value.sum(where=none),
        ).to_pyarrow().to_pylist()[0]
        return Summary(conversions=int(row["n"] or 0), value=float(row["v"] or 0.0),
                       no_touch_conversions=int(row["n0"] or 0),
                       no_touch_value=float(row["v0"] or 0.0))


def credit_stage(config: Config) -> str:
    """The conversion stage whose journeys credit won revenue to channels (`marketing_roi`'s
    credit models): `won`, or the default funnel's last stage where there is no `won` stage."""
    return "won" if "won" in config.stages else config.funnel().last


def range_bounds(start: dt.date | None, end: dt.date | None,
                 tz: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[first instant, first instant after) of whole local days start..end, as naive UTC."""
    lo = None if start is None else local_to_utc(dt.datetime.combine(start, dt.time()), tz)
    hi = None if end is None else local_to_utc(
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), tz)
    return lo, hi


def within(ts: ir.TimestampValue, lo: dt.datetime | None,
            hi: dt.datetime | None) -> ir.BooleanValue:
    cond = ibis.literal(True)
    if lo is not None:
        cond &= ts >= lo
    if hi is not None:
        cond &= ts < hi
    return cond


def _converted(scope: Scope, stage: str) -> ibis.Table:
    """Every converted lead (as of the scope): lead_id, converted_at, lead_created_at.

    The same instant as `reach_times(scope, funnel, Mode.CUMULATIVE)["reach:STAGE"]` (the first
    event of the stage or of a later stage; a lead reaches the first stage at its created_at),
    computed for the one stage only: a grouped MIN over the matching events, joined to just the
    leads that have one — 5× less work than every stage for every lead on 10M leads.
    """
    funnel = scope.ws.config.funnel_of(stage)
    leads = base(scope, "leads")
    if stage == funnel.first:
        return leads.select(lead_id=leads.lead_id, converted_at=leads.created_at,
                            lead_created_at=leads.created_at)
    events = base(scope, "stage_events")
    events = events.filter(events.stage.isin(funnel.stages[funnel.index(stage):]))
    firsts = events.group_by(_lid=events.lead_id).aggregate(converted_at=events.occurred_at.min())
    joined = firsts.inner_join(leads, firsts._lid == leads.lead_id)
    return joined.select(lead_id=joined._lid, converted_at=joined.converted_at,
                         lead_created_at=joined.created_at)


def _deal_facts(scope: Scope) -> ibis.Table:
    """Per lead: the sum of its won amounts (`value`) and its first opportunity's created_at."""
    opps = base(scope, "opportunities")
    opps = opps.filter(opps.lead_id.notnull())
    return opps.group_by(_lid=opps.lead_id).aggregate(
        won=opps.amount.sum(where=opps.status == "won"),
        opp_created_at=opps.created_at.min(),
    )


def _touchpoints(scope: Scope, by: str) -> ibis.Table:
    tp = base(scope, "touchpoints")
    key = tp.channel if by == "channel" else tp.campaign_id.fill_null(NO_CAMPAIGN)
    return tp.select(_tlid=tp.lead_id, occurred_at=tp.occurred_at, channel=tp.channel,
                     key=key.cast("string"), campaign_id=tp.campaign_id)


def lookback(ts: ir.TimestampValue, end: ir.TimestampValue,
              lookback_days: float | None) -> ir.BooleanValue:
    if lookback_days is None:
        return ibis.literal(True)
    return ts >= end - ibis.interval(seconds=round(lookback_days * 86_400))


def build_journeys(ws: Connection, *, by: str = "channel", conversion: str = "won",
                   start: Any = None, end: Any = None, as_of: Any = None,
                   lookback_days: float | None = None, scope: Scope | None = None) -> Journeys:
    """The journeys of an attribution query (see the module docstring for the definitions).

    `as_of` is a date or instant in the workspace time zone; a metric that already has a
    `Scope` (naive-UTC `as_of`) passes it as `scope` instead.
    """
    if by not in BY:
        raise QueryError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    if conversion not in ws.config.stages:
        raise QueryError(f"unknown conversion stage {conversion!r}; stages: "
                         f"{', '.join(ws.config.stages)}")
    if lookback_days is not None and not lookback_days > 0:
        raise QueryError(f"--lookback-days must be positive, not {lookback_days}")
    start_d, end_d = parse_date(start, "start"), parse_date(end, "end")
    if start_d and end_d and end_d < start_d:
        raise QueryError(f"end {end_d} is before start {start_d}")
    if scope is None:
        scope = Scope(ws, as_of=parse_instant(as_of, ws.config.timezone))
    lo, hi = range_bounds(start_d, end_d, ws.config.timezone)

    # Inside a batch (DuckDB) the conversions and the journeys' touches are kept once for
    # every query of it: the report's models and marketing_roi's credit models read the same.
    valued = ws.shared(("journeys:valued", scope.as_of, conversion),
                       lambda: _valued(scope, conversion))
    conversions = valued.filter(within(valued.converted_at, lo, hi))

    tp = _touchpoints(scope, by)
    touches = ws.shared(("journeys:touches", scope.as_of, conversion, by, lo, hi, lookback_days),
                        lambda: _journey_touches(tp, conversions, lookback_days))

    ever = valued.select(_clid=valued.lead_id, _cat=valued.converted_at, _cval=valued.value)
    p = tp.left_join(ever, tp._tlid == ever._clid)
    candidates = p.filter(p._cat.isnull() | (p.occurred_at <= p._cat)).select(
        lead_id=p._tlid, occurred_at=p.occurred_at, channel=p.channel, key=p.key,
        campaign_id=p.campaign_id, converted_at=p._cat, value=p._cval)
    c = candidates.mutate(_end=ibis.coalesce(
        candidates.converted_at, candidates.occurred_at.max().over(group_by=candidates.lead_id)))
    paths = c.filter(within(c._end, lo, hi), lookback(c.occurred_at, c._end, lookback_days))
    paths = paths.mutate(converted=paths.converted_at.notnull()).drop("_end")

    return Journeys(ws=ws, by=by, conversion=conversion, conversions=conversions,
                    touches=touches, paths=paths, candidates=candidates, touchpoints=tp, lo=lo,
                    hi=hi, start=start_d, end=end_d, as_of=scope.as_of,
                    lookback_days=lookback_days)


def _valued(scope: Scope, conversion: str) -> ibis.Table:
    """Every converted lead (at any time, as of the scope) with its value."""
    converted = _converted(scope, conversion)
    deals = _deal_facts(scope)
    valued = converted.left_join(deals, converted.lead_id == deals._lid).drop("_lid")
    return valued.mutate(value=valued.won.fill_null(0.0).cast("float64")).drop("won")


def _journey_touches(tp: ibis.Table, conversions: ibis.Table,
                     lookback_days: float | None) -> ibis.Table:
    """The touches of converted journeys: at or before the conversion, within the look-back."""
    t = tp.inner_join(conversions, tp._tlid == conversions.lead_id).drop("_tlid")
    return t.filter(t.occurred_at <= t.converted_at,
                    lookback(t.occurred_at, t.converted_at, lookback_days))
