"""MRR cohort retention (SPEC §4 dashboard "cohort heat-map"): accounts and MRR retained, by the
period of each account's first paid subscription × periods since then.

An account belongs to the cohort of the period its first paid subscription (mrr > 0) started in.
At age k it is retained when it has MRR at the end of the k-th period after that (active at the
end: started_at < next and (ended_at is null or ended_at ≥ next), SPEC §3); its MRR then is the sum
of its active subscriptions. Account retention = retained / cohort size; MRR retention = MRR at age
k / MRR at age 0 (so expansion can take it above 100%). `partial` marks a cell whose period is
not over at the query's instant (the as-of instant, or now): its figures may still move.

No catalogue metric answers these yet (retention by cohort of first paid subscription × age), so
they are computed here, in the database, as one expression.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from funnelmetrics.compile.context import safe_div
from funnelmetrics.compile.time import Grain, Window, local_to_utc, parse_grain, parse_instant
from funnelmetrics.errors import QueryError
from funnelmetrics.query import query_range
from funnelmetrics.revenue.mrr import active_at, paid_subscriptions
from funnelmetrics.semantic.model import Scope

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

COLUMNS = ["cohort", "periods_since_start", "cohort_accounts", "accounts", "account_retention",
           "mrr", "mrr_retention", "partial"]


def _spine(window: Window) -> ibis.Table:
    """The window's periods with their index and the UTC instant the next one starts."""
    starts = window.periods
    nexts = [local_to_utc(dt.datetime.combine(window.next_start(p), dt.time()), window.tz)
             for p in starts]
    return ibis.memtable({"period_start": starts, "idx": list(range(len(starts))),
                          "next_start": nexts},
                         schema={"period_start": "date", "idx": "int64",
                                 "next_start": "timestamp"})


def _cohorts(subs: ibis.Table, spine: ibis.Table, window: Window) -> ibis.Table:
    """Per account in a cohort of the range: its cohort period and that period's index."""
    firsts = subs.group_by(_acc=subs.account_id).aggregate(_first=subs.started_at.min())
    firsts = firsts.mutate(cohort=window.period_of(firsts._first))
    j = firsts.join(spine, firsts.cohort == spine.period_start)
    return j.select(account_id=j._acc, cohort=j.cohort, cohort_idx=j.idx)


def cohort_expr(scope: Scope, window: Window, now: dt.datetime | None = None) -> ibis.Table:
    """The cohort × age table as one Ibis expression (see the module doc); `now` (naive UTC,
    default the scope's as-of instant, else the present) decides which cells are partial."""
    now = now or scope.as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    subs = paid_subscriptions(scope)
    spine = _spine(window)
    cohorts = _cohorts(subs, spine, window)
    active = spine.join(subs, [active_at(None, subs, spine.next_start)])
    per = active.group_by(_idx=active.idx, _acc=active.account_id).aggregate(
        _mrr=active.mrr.sum())
    per = per.join(cohorts, per._acc == cohorts.account_id)
    kept = per.group_by(_c=per.cohort, _age=per._idx - per.cohort_idx).aggregate(
        accounts=per._acc.nunique(), mrr=per._mrr.sum())
    sizes = cohorts.group_by(cohort=cohorts.cohort, _cidx=cohorts.cohort_idx).aggregate(
        cohort_accounts=cohorts.account_id.nunique())
    grid = sizes.join(spine, spine.idx >= sizes._cidx)
    grid = grid.select("cohort", "cohort_accounts",
                       periods_since_start=grid.idx - grid._cidx,
                       partial=grid.next_start > now).view()
    j = grid.left_join(kept, [grid.cohort == kept._c, grid.periods_since_start == kept._age])
    j = j.select("cohort", "periods_since_start", "cohort_accounts", "partial",
                 accounts=j.accounts.fill_null(0), mrr=j.mrr.fill_null(0.0))
    first = ibis.window(group_by=j.cohort, order_by=j.periods_since_start)
    j = j.mutate(account_retention=safe_div(j.accounts, j.cohort_accounts),
                 mrr_retention=safe_div(j.mrr, j.mrr.first().over(first)))
    return j.select(*COLUMNS).order_by(["cohort", "periods_since_start"])


def mrr_cohorts(ws: Workspace, *, grain: str = "month", start: Any = None, end: Any = None,
                as_of: Any = None) -> pd.DataFrame:
    """Cohort retention for the cohorts starting in [start, end], followed up to `end`."""
    step = parse_grain(grain)
    if step is Grain.ALL:
        raise QueryError("cohorts need a calendar grain (day, week, month, quarter or year)")
    start, end = query_range(ws, "net_new_mrr", grain=step, start=start, end=end, as_of=as_of)
    window = Window(step, start, end, ws.config.timezone)
    scope = Scope(ws, as_of=parse_instant(as_of, ws.config.timezone))
    df = cohort_expr(scope, window).execute()
    df["cohort"] = df["cohort"].map(lambda v: v.date() if hasattr(v, "date") else v)
    return df
