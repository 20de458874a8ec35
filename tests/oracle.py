"""A pure-Python reference for the funnel and deal metrics, written from SPEC §2–§3 alone.

An outside reviewer's oracle: no pandas, Ibis or DuckDB, and nothing taken from the library's
compiler. `Oracle(data, timezone=…).metric(metric_id, grain=…, start=…, end=…, by=…, where=…,
**params)` returns `{(period_start, dimension value): Row}`, to be compared with `ws.metric(…)`.

Instants are naive UTC datetimes (SPEC §2: "a date alone means 00:00 UTC"); periods are
calendar-aligned in the workspace time zone (§3); durations are exact elapsed seconds / 86 400.
Where SPEC leaves a choice open, the docstring of the function that makes it says which reading
was taken and why (the reading a sales-operations analyst would expect, SPEC §"preamble").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

SALES_STAGES = ("lead", "mql", "sql", "opportunity", "won")  # SPEC §2 default sales-led funnel
DAY_SECONDS = 86_400
DEFAULT_WINDOW_DAYS = 180.0  # SPEC §3: "a conversion window (default 180 days)"
DEFAULT_CONTRACT_MONTHS = 12.0  # SPEC §2: contract_months (default 12)
GRAINS = ("day", "week", "month", "quarter", "year")

Key = tuple[dt.date, Any]  # (period_start, dimension value or None when there is no `by`)


# ---- the canonical rows (SPEC §2) -------------------------------------------------------------
@dataclass(frozen=True)
class Lead:
    lead_id: str
    created_at: dt.datetime
    source: str | None = None
    rep_id: str | None = None


@dataclass(frozen=True)
class StageEvent:
    lead_id: str
    stage: str
    occurred_at: dt.datetime


@dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    created_at: dt.datetime
    status: str  # open / won / lost
    amount: float
    lead_id: str | None = None
    rep_id: str | None = None
    closed_at: dt.datetime | None = None
    expected_close_at: dt.datetime | None = None
    probability: float | None = None
    contract_months: float | None = None


@dataclass(frozen=True)
class Quota:
    rep_id: str
    period_start: dt.date
    period_end: dt.date
    amount: float


@dataclass(frozen=True)
class Data:
    leads: Sequence[Lead] = ()
    stage_events: Sequence[StageEvent] = ()
    opportunities: Sequence[Opportunity] = ()
    quotas: Sequence[Quota] = ()

    def as_of(self, instant: dt.datetime) -> Data:
        """SPEC §5 `--as-of`: the workspace as it stood at that instant — events after it
        ignored, deals open then count as open. An event *at* the instant is read as SPEC §3
        reads a period's end ("just before the next period starts, so that a date-only event
        on the 1st belongs to the new period"): not yet happened, so that `--as-of` the 1st of
        a month shows the state at the previous month's end (a deal closed on the 1st is still
        open at the end of the month before)."""
        def seen(opp: Opportunity) -> Opportunity:
            if opp.closed_at is None or opp.closed_at < instant:
                return opp
            return replace(opp, status="open", closed_at=None)

        return Data(
            tuple(x for x in self.leads if x.created_at < instant),
            tuple(x for x in self.stage_events if x.occurred_at < instant),
            tuple(seen(x) for x in self.opportunities if x.created_at < instant),
            self.quotas)


@dataclass(frozen=True)
class Row:
    """One output row: `value`, and the ratio's parts where the metric is a ratio."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    immature: bool | None = None  # cohort metrics only


# ---- calendar (SPEC §3 time semantics) --------------------------------------------------------
def floor_date(day: dt.date, grain: str) -> dt.date:
    """The first day of the calendar period holding `day` (weeks are ISO, starting Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown grain {grain!r}")


def next_start(start: dt.date, grain: str) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def previous_start(start: dt.date, grain: str) -> dt.date:
    return floor_date(start - dt.timedelta(days=1), grain)


class Calendar:
    """The periods of one query, and where local midnights fall in UTC."""

    def __init__(self, timezone: str, grain: str, start: dt.date, end: dt.date) -> None:
        self.zone = ZoneInfo(timezone)
        self.grain = grain
        self.periods: list[dt.date] = []
        period = floor_date(start, grain)
        while period <= end:
            self.periods.append(period)
            period = next_start(period, grain)
        # events outside [start 00:00, end + 1 day 00:00) local are not counted (SPEC §5: inclusive)
        self.lower = self.midnight(start)
        self.upper = self.midnight(end + dt.timedelta(days=1))

    def midnight(self, day: dt.date) -> dt.datetime:
        """Local 00:00 of `day` as a naive UTC instant (midnight is never in a DST gap here)."""
        local = dt.datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.replace(tzinfo=dt.UTC).astimezone(self.zone).date()

    def bounds(self, period: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, next period's first instant) of a period, in UTC."""
        return self.midnight(period), self.midnight(next_start(period, self.grain))

    def period_of(self, instant: dt.datetime | None) -> dt.date | None:
        """The query period holding `instant`, or None (no instant, or outside the range)."""
        if instant is None or not self.lower <= instant < self.upper:
            return None
        return floor_date(self.local_date(instant), self.grain)

    def within(self, instant: dt.datetime | None, period: dt.date) -> bool:
        """`instant` falls in `period` (any period, also one before the query's range)."""
        if instant is None:
            return False
        lo, hi = self.bounds(period)
        return lo <= instant < hi


# ---- statistics -------------------------------------------------------------------------------
def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks at position (n − 1)·q.

    SPEC §3 names "median, p90" without an interpolation rule. This is the convention the
    library's own hand-worked tests document (tests/test_metrics_funnel.py and
    test_metrics_deals.py: "linear interpolation at (n−1)·0.9"), the same as numpy's default,
    R type 7 and `statistics.quantiles(method="inclusive")`; mirrored here.
    """
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def summarise(values: Sequence[float], stat: str) -> float | None:
    """mean / median / p90 of durations; None ("no data") when there are none."""
    if not values:
        return None
    if stat == "mean":
        return statistics.fmean(values)
    if stat == "median":
        return statistics.median(values)
    if stat == "p90":
        return quantile(values, 0.9)
    raise ValueError(f"unknown stat {stat!r}")


def ratio(numerator: float, denominator: float) -> Row:
    """SPEC §3: a ratio whose denominator is 0 is null, never 0 and never an error."""
    value = None if denominator == 0 else numerator / denominator
    return Row(value, numerator, denominator)


def days(start: dt.datetime, end: dt.datetime) -> float:
    """SPEC §3: exact elapsed time (seconds / 86 400), not calendar-day differences."""
    return (end - start).total_seconds() / DAY_SECONDS


# ---- reaching stages (SPEC §2) ----------------------------------------------------------------
def reach_times(data: Data, mode: str,
                stages: Sequence[str] = SALES_STAGES) -> dict[str, dict[str, dt.datetime]]:
    """Per lead, the instant it reached each stage it reached.

    Every lead reaches the first stage at created_at. Cumulative: stage k at the earliest event
    of stage k or any later stage. Strict: only the stage's own earliest event.
    """
    own: dict[str, dict[str, dt.datetime]] = {lead.lead_id: {} for lead in data.leads}
    for event in data.stage_events:
        if event.lead_id not in own or event.stage not in stages[1:]:
            continue
        seen = own[event.lead_id]
        if event.stage not in seen or event.occurred_at < seen[event.stage]:
            seen[event.stage] = event.occurred_at
    reach: dict[str, dict[str, dt.datetime]] = {}
    for lead in data.leads:
        times = {stages[0]: lead.created_at}
        for k, stage in enumerate(stages[1:], start=1):
            candidates = [own[lead.lead_id][s] for s in (stages[k:] if mode == "cumulative"
                                                          else (stage,))
                          if s in own[lead.lead_id]]
            if candidates:
                times[stage] = min(candidates)
        reach[lead.lead_id] = times
    return reach


# ---- the query context ------------------------------------------------------------------------
@dataclass
class Query:
    data: Data
    cal: Calendar
    by: str | None
    where: Mapping[str, Any]
    params: dict[str, Any]
    mode: str
    window_days: float
    qualified_stage: str
    now: dt.datetime
    leads_by_id: dict[str, Lead] = field(default_factory=dict)

    # dimensions: a lead's own columns; a deal's source is its lead's (through lead_id)
    def lead_attr(self, lead: Lead, name: str) -> Any:
        return getattr(lead, name)

    def deal_attr(self, opp: Opportunity, name: str) -> Any:
        if name == "source":
            lead = self.leads_by_id.get(opp.lead_id) if opp.lead_id is not None else None
            return None if lead is None else lead.source
        return getattr(opp, name)

    def keep(self, attr: Callable[[Any, str], Any], row: Any) -> bool:
        """`where`: each dimension equals the value (None = null) or is one of a list."""
        for name, wanted in self.where.items():
            got = attr(row, name)
            allowed = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
            if got not in allowed:
                return False
        return True

    def group(self, attr: Callable[[Any, str], Any], row: Any) -> Any:
        return None if self.by is None else attr(row, self.by)

    def leads(self) -> list[Lead]:
        return [lead for lead in self.data.leads if self.keep(self.lead_attr, lead)]

    def deals(self) -> list[Opportunity]:
        return [o for o in self.data.opportunities if self.keep(self.deal_attr, o)]

    def quotas(self) -> list[Quota]:
        return [q for q in self.data.quotas if self.keep(getattr, q)]

    def stage_param(self, name: str, default: str) -> str:
        return self.params.get(name) or default


def _grid(q: Query, groups: Iterable[Any]) -> list[Key]:
    """Every period × every group seen (a single None group without `by`)."""
    groups = {None} if q.by is None else set(groups)
    return [(p, g) for p in q.cal.periods for g in sorted(groups, key=lambda g: (g is None, g))]


# ---- funnel metrics ---------------------------------------------------------------------------
def leads_created(q: Query) -> dict[Key, Row]:
    """SPEC §3: count of leads with created_at in period."""
    leads = q.leads()
    out = {key: Row(0) for key in _grid(q, (q.group(q.lead_attr, x) for x in leads))}
    for lead in leads:
        period = q.cal.period_of(lead.created_at)
        if period is not None:
            key = (period, q.group(q.lead_attr, lead))
            out[key] = Row(out[key].value + 1)
    return out


def stage_reached(q: Query) -> dict[Key, Row]:
    """SPEC §3: leads reaching stage S in period (by the first event of S or a later stage)."""
    stage = q.stage_param("stage", SALES_STAGES[1])
    reach = reach_times(q.data, q.mode)
    leads = q.leads()
    out = {key: Row(0) for key in _grid(q, (q.group(q.lead_attr, x) for x in leads))}
    for lead in leads:
        period = q.cal.period_of(reach[lead.lead_id].get(stage))
        if period is not None:
            key = (period, q.group(q.lead_attr, lead))
            out[key] = Row(out[key].value + 1)
    return out


def _conversion_counts(q: Query, source: str, target: str) -> dict[Key, list[int]]:
    """Per (cohort period, group): [converted, entered].

    Cohort = leads that reached `source` in the period; converted = reached `target` no later
    than reach(source) + window (boundary inclusive: "within the window"). A `target` reached
    *before* `source` (possible in strict mode with out-of-order events) counts as converted:
    SPEC asks whether the lead "reached `to`", and an analyst would not call an SQL a drop-off
    because its MQL event was logged late.
    """
    reach = reach_times(q.data, q.mode)
    window = dt.timedelta(days=q.window_days)
    leads = q.leads()
    counts = {key: [0, 0] for key in _grid(q, (q.group(q.lead_attr, x) for x in leads))}
    for lead in leads:
        times = reach[lead.lead_id]
        period = q.cal.period_of(times.get(source))
        if period is None:
            continue
        key = (period, q.group(q.lead_attr, lead))
        counts[key][1] += 1
        reached = times.get(target)
        if reached is not None and reached <= times[source] + window:
            counts[key][0] += 1
    return counts


def _immature(q: Query, period: dt.date) -> bool:
    """SPEC §3: a cohort younger than its window is marked immature.

    A cohort is complete when its youngest member (who entered just before the period's end)
    has had the whole window: immature while next period's first instant + window > now.
    """
    _, end = q.cal.bounds(period)
    return end + dt.timedelta(days=q.window_days) > q.now


def _pair(q: Query) -> tuple[str, str]:
    source = q.stage_param("from_stage", SALES_STAGES[0])
    target = q.params.get("to_stage") or SALES_STAGES[SALES_STAGES.index(source) + 1]
    return source, target


def stage_conversion_rate(q: Query, pair: tuple[str, str] | None = None,
                          drop: bool = False) -> dict[Key, Row]:
    """SPEC §3 cohort: of leads that reached `from` in period, the share that reached `to`
    within the window; drop-off = 1 − that, as (entered − converted) / entered."""
    source, target = pair or _pair(q)
    out = {}
    for key, (converted, entered) in _conversion_counts(q, source, target).items():
        row = ratio(entered - converted if drop else converted, entered)
        out[key] = Row(row.value, row.numerator, row.denominator, _immature(q, key[0]))
    return out


def lead_conversion_rate(q: Query) -> dict[Key, Row]:
    """SPEC §3: stage_conversion_rate(first stage, won stage)."""
    return stage_conversion_rate(q, (SALES_STAGES[0], SALES_STAGES[-1]))


def stage_drop_off(q: Query) -> dict[Key, Row]:
    return stage_conversion_rate(q, drop=True)


def time_in_stage(q: Query) -> dict[Key, Row]:
    """SPEC §3: days from reaching a stage to reaching the next reached stage.

    Grouped by the period in which the lead reached the stage (its entry). Leads that never
    moved on have no duration. "The next reached stage" is read chronologically: the earliest
    later stage reached at or after the lead reached this one. In cumulative mode that is simply
    reach(stage + 1). In strict mode with out-of-order events (sql logged before mql) an analyst
    expects the time the lead spent in mql before moving further down the funnel, never a
    negative number of days: later stages reached *before* entering the stage are skipped.
    """
    stage = q.stage_param("stage", SALES_STAGES[1])
    stat = q.params.get("stat") or "mean"
    later = SALES_STAGES[SALES_STAGES.index(stage) + 1:]
    reach = reach_times(q.data, q.mode)
    leads = q.leads()
    durations: dict[Key, list[float]] = {
        key: [] for key in _grid(q, (q.group(q.lead_attr, x) for x in leads))}
    for lead in leads:
        times = reach[lead.lead_id]
        period = q.cal.period_of(times.get(stage))
        if period is None:
            continue
        onwards = [times[s] for s in later if s in times and times[s] >= times[stage]]
        if onwards:
            durations[(period, q.group(q.lead_attr, lead))].append(
                days(times[stage], min(onwards)))
    return {key: Row(summarise(values, stat)) for key, values in durations.items()}


def lead_velocity_rate(q: Query) -> dict[Key, Row]:
    """SPEC §3: (qualified leads this period − last period) / last period.

    Qualified = reached the qualified stage (config, default sql; `stage` overrides) in the
    period, by the query's mode. "Last period" is the calendar period before, also for the
    first period of the range.
    """
    stage = q.stage_param("stage", q.qualified_stage)
    reach = reach_times(q.data, q.mode)
    leads = q.leads()
    out = {}
    for period, group in _grid(q, (q.group(q.lead_attr, x) for x in leads)):
        mine = [reach[x.lead_id].get(stage) for x in leads if q.group(q.lead_attr, x) == group]
        this = sum(q.cal.within(t, period) for t in mine)
        before = sum(q.cal.within(t, previous_start(period, q.cal.grain)) for t in mine)
        out[(period, group)] = ratio(this - before, before)
    return out


# ---- deal metrics -----------------------------------------------------------------------------
def _closed(q: Query, status: tuple[str, ...]) -> dict[Key, list[Opportunity]]:
    """Deals with one of `status` whose closed_at falls in each period, per group."""
    deals = q.deals()
    out: dict[Key, list[Opportunity]] = {
        key: [] for key in _grid(q, (q.group(q.deal_attr, o) for o in deals))}
    for opp in deals:
        if opp.status in status:
            period = q.cal.period_of(opp.closed_at)
            if period is not None:
                out[(period, q.group(q.deal_attr, opp))].append(opp)
    return out


def win_rate(q: Query) -> dict[Key, Row]:
    """SPEC §3: opportunities closed in period: won / (won + lost)."""
    return {key: ratio(sum(o.status == "won" for o in deals), len(deals))
            for key, deals in _closed(q, ("won", "lost")).items()}


def average_deal_size(q: Query) -> dict[Key, Row]:
    """SPEC §3: sum(amount) / count of opportunities won in period."""
    return {key: ratio(sum(o.amount for o in deals), len(deals))
            for key, deals in _closed(q, ("won",)).items()}


def acv_of(opp: Opportunity) -> float:
    """SPEC §3: acv = amount / max(contract_months, 12) × 12 (contract_months default 12)."""
    months = DEFAULT_CONTRACT_MONTHS if opp.contract_months is None else opp.contract_months
    return opp.amount / max(months, 12.0) * 12.0


def acv(q: Query) -> dict[Key, Row]:
    """SPEC §3 "per won opportunity": the mean over opportunities won in the period."""
    return {key: ratio(sum(acv_of(o) for o in deals), len(deals))
            for key, deals in _closed(q, ("won",)).items()}


def tcv(q: Query) -> dict[Key, Row]:
    """SPEC §3: tcv = amount, per won opportunity (the mean over the period's won deals)."""
    return average_deal_size(q)


def _cycle(q: Query, opp: Opportunity, start_from: str) -> float | None:
    """Days from the opportunity's (or its lead's) created_at to closed_at."""
    if start_from == "lead":
        lead = q.leads_by_id.get(opp.lead_id) if opp.lead_id is not None else None
        return None if lead is None else days(lead.created_at, opp.closed_at)
    return days(opp.created_at, opp.closed_at)


def sales_cycle_days(q: Query) -> dict[Key, Row]:
    """SPEC §3: won in period: days from created_at to closed_at; mean / median (p90 too);
    the `from="lead"` variant starts at the lead's created_at (deals without a loaded lead have
    no such cycle)."""
    stat = q.params.get("stat") or "mean"
    start_from = q.params.get("from") or "opportunity"
    out = {}
    for key, deals in _closed(q, ("won",)).items():
        cycles = [c for c in (_cycle(q, o, start_from) for o in deals) if c is not None]
        out[key] = Row(summarise(cycles, stat))
    return out


def open_at(opp: Opportunity, instant: dt.datetime) -> bool:
    """SPEC §3: open at an instant: created_at < it and (closed_at null or closed_at ≥ it)."""
    return opp.created_at < instant and (opp.closed_at is None or opp.closed_at >= instant)


def _open_at_end(q: Query) -> dict[Key, list[Opportunity]]:
    deals = q.deals()
    out = {}
    for period, group in _grid(q, (q.group(q.deal_attr, o) for o in deals)):
        _, end = q.cal.bounds(period)
        out[(period, group)] = [o for o in deals
                                if q.group(q.deal_attr, o) == group and open_at(o, end)]
    return out


def pipeline_value(q: Query, weighted: bool | None = None) -> dict[Key, Row]:
    """SPEC §3: sum(amount) of opportunities open at the period's end; weighted × probability.

    A sum over nothing is 0 (a currency amount, not a ratio). A deal without a probability adds
    nothing to the weighted variant (amount × unknown probability is not counted as pipeline).
    """
    weighted = bool(q.params.get("weighted")) if weighted is None else weighted

    def worth(o: Opportunity) -> float:
        if not weighted:
            return o.amount
        return 0.0 if o.probability is None else o.amount * o.probability

    return {key: Row(float(sum(worth(o) for o in deals)))
            for key, deals in _open_at_end(q).items()}


def weighted_pipeline_value(q: Query) -> dict[Key, Row]:
    return pipeline_value(q, weighted=True)


def _quota(q: Query, period: dt.date, group: Any) -> tuple[int, float]:
    """(number of quota rows, their amount) for a period and group.

    A quota row belongs to the reporting period holding its period_start *date* as written:
    quotas are calendar periods, not instants (a "2026-02-01 … 2026-02-28" quota is February's
    in every time zone, though 2026-02-01T00:00Z is still January in New York).
    """
    rows = [x for x in q.quotas()
            if period <= x.period_start < next_start(period, q.cal.grain)
            and q.group(getattr, x) == group]
    return len(rows), float(sum(x.amount for x in rows))


def _won_amount(deals: Iterable[Opportunity]) -> float:
    return float(sum(o.amount for o in deals))


def quota_attainment(q: Query) -> dict[Key, Row]:
    """SPEC §3: won amount in period / quota (null without a quota: denominator 0)."""
    won = _closed(q, ("won",))
    out = {}
    groups = {g for _, g in won} | {q.group(getattr, x) for x in q.quotas()}
    for key in _grid(q, groups):
        out[key] = ratio(_won_amount(won.get(key, [])), _quota(q, *key)[1])
    return out


def pipeline_coverage(q: Query) -> dict[Key, Row]:
    """SPEC §3: open pipeline expected to close in period / (quota − won amount so far in period).

    "So far" reads the formula at the query's instant (now, or as_of): open = still open then
    (status open in the workspace as it stands then); won = won in the period up to then. Null
    when the denominator is 0 and also when the period has no quota at all: without a quota
    there is nothing to cover (an analyst would not read −pipeline / won as a coverage), so the
    denominator (quota still to win) is unknown: null too. Likewise when the quota is already met
    (quota − won ≤ 0): coverage is never negative.
    """
    won = _closed(q, ("won",))
    deals = q.deals()
    groups = {g for _, g in won} | {q.group(getattr, x) for x in q.quotas()}
    out = {}
    for period, group in _grid(q, groups):
        expected = [o for o in deals if q.group(q.deal_attr, o) == group
                    and o.status == "open" and q.cal.within(o.expected_close_at, period)]
        count, quota = _quota(q, period, group)
        numerator = _won_amount(expected)
        denominator = quota - _won_amount(won.get((period, group), []))
        row = ratio(numerator, denominator)
        # no quota, or the quota already met (nothing left to win): nothing to cover, null
        out[(period, group)] = row if count and denominator > 0 else Row(None, numerator, None)
    return out


def sales_velocity(q: Query) -> dict[Key, Row]:
    """SPEC §3: open opportunities × win_rate × average_deal_size / mean sales_cycle_days.

    Open = open at the period's end (SPEC's only "open" for a period); the rest over deals
    closed in the period. Null when any factor has no data or the mean cycle is 0.
    """
    closed = _closed(q, ("won", "lost"))
    opened = _open_at_end(q)
    out = {}
    for key in set(closed) | set(opened):
        deals = closed.get(key, [])
        won = [o for o in deals if o.status == "won"]
        if not won:
            out[key] = Row(None)
            continue
        rate = len(won) / len(deals)
        size = _won_amount(won) / len(won)
        cycle = statistics.fmean(days(o.created_at, o.closed_at) for o in won)
        numerator = len(opened.get(key, [])) * rate * size
        out[key] = Row(None if cycle == 0 else numerator / cycle, numerator, cycle)
    return out


def revenue_per_lead(q: Query) -> dict[Key, Row]:
    """SPEC §3: won amount in period / leads created in period (split by the lead's source)."""
    won = _closed(q, ("won",))
    created = leads_created(q)
    return {key: ratio(_won_amount(won.get(key, [])),
                       created[key].value if key in created else 0)
            for key in set(won) | set(created)}


METRICS: dict[str, Callable[[Query], dict[Key, Row]]] = {
    "leads_created": leads_created,
    "stage_reached": stage_reached,
    "stage_conversion_rate": stage_conversion_rate,
    "lead_conversion_rate": lead_conversion_rate,
    "stage_drop_off": stage_drop_off,
    "time_in_stage": time_in_stage,
    "lead_velocity_rate": lead_velocity_rate,
    "win_rate": win_rate,
    "average_deal_size": average_deal_size,
    "sales_cycle_days": sales_cycle_days,
    "pipeline_value": pipeline_value,
    "weighted_pipeline_value": weighted_pipeline_value,
    "pipeline_coverage": pipeline_coverage,
    "sales_velocity": sales_velocity,
    "revenue_per_lead": revenue_per_lead,
    "quota_attainment": quota_attainment,
    "acv": acv,
    "tcv": tcv,
}
RATIOS = {"stage_conversion_rate", "lead_conversion_rate", "stage_drop_off",
          "lead_velocity_rate", "win_rate", "average_deal_size", "pipeline_coverage",
          "sales_velocity", "revenue_per_lead", "quota_attainment", "acv", "tcv"}
COUNTS_AND_SUMS = {"leads_created", "stage_reached", "pipeline_value",
                   "weighted_pipeline_value"}  # 0 over nothing; the rest are null over nothing


class Oracle:
    """Reference figures for one workspace's rows and settings."""

    def __init__(self, data: Data, *, timezone: str = "UTC", mode: str = "cumulative",
                 window_days: float = DEFAULT_WINDOW_DAYS, qualified_stage: str = "sql") -> None:
        self.data = data
        self.timezone = timezone
        self.mode = mode
        self.window_days = window_days
        self.qualified_stage = qualified_stage

    def metric(self, metric_id: str, *, grain: str, start: str, end: str, by: str | None = None,
               where: Mapping[str, Any] | None = None, as_of: str | None = None,
               **params: Any) -> dict[Key, Row]:
        cal = Calendar(self.timezone, grain, dt.date.fromisoformat(start),
                       dt.date.fromisoformat(end))
        data = self.data
        if as_of is not None:  # a date is local midnight in the workspace time zone
            now = (cal.midnight(dt.date.fromisoformat(as_of)) if len(as_of) == 10 else
                   dt.datetime.fromisoformat(as_of).astimezone(dt.UTC).replace(tzinfo=None))
            data = data.as_of(now)
        else:  # every row is assumed to lie in the past
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        q = Query(data=data, cal=cal, by=by, where=dict(where or {}), params=params,
                  mode=params.pop("mode", None) or self.mode,
                  window_days=float(params.pop("window_days", None) or self.window_days),
                  qualified_stage=self.qualified_stage, now=now,
                  # a deal's lead is looked up among all leads: its source is an attribute, not
                  # an event, so a deal keeps its lead's source under as_of too
                  leads_by_id={x.lead_id: x for x in self.data.leads})
        return METRICS[metric_id](q)
