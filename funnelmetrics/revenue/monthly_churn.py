"""Monthly customer churn pooled over a period's months (SPEC §3 ltv, ltv_to_cac).

LTV divides a *monthly* ARPA by a *monthly* churn rate at every grain: a period's rate is its
months' churned accounts over its months' accounts active at the start, each summed over the
months (Σ churned_m / Σ active_start_m) — at month grain the month's own customer churn rate.
The `churn_months` entity holds one row per month (and value of the query's dimensions) with
`churned` and `active_start`, and `_next`, the instant the query period it is pooled into ends,
so that the catalogue sums them per period (`mrr.same_period`). Which months a period pools:

- month, quarter, year: the months it is made of;
- `all`: the months its range touches (a range cut mid-month pools that month whole);
- week, day: none — a week or a day holds no whole month, so its LTV is null rather than a
  month's rate read before that month is over;
- never a month that has not begun at the query's instant (`--as-of`, else now): it has no churn
  yet, only accounts, and would dilute the rate (a quarter as of mid-February pools January and
  February to date).

The months' figures come from the per-account MRR movements over a month window
(`mrr.movement_rows`): months are local months of the workspace zone, subscriptions are seen as of
the query's instant, and an account's dimensions and filters are those of the other revenue
metrics (`accounts.with_account_dimensions`). Accounts active at a month's start are a running
total per dimension value: paying at the first month's start, plus every start, less every churn,
of the months before (one window function over a small month × dimension grid).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.compile.time import Grain, Window, floor, local_to_utc, periods
from funnelmetrics.revenue.accounts import with_account_dimensions
from funnelmetrics.revenue.mrr import movement_rows
from funnelmetrics.semantic.model import Entity
from funnelmetrics.semantic.registry import declare

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context

MONTHLY_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
COUNTS = ("churned", "started", "base_active")  # per (month, account) in `mrr.movement_rows`


def month_window(window: Window) -> Window:
    """The local months the query's range touches, from its first period's first month to the
    month of its last period's last day."""
    last = window.next_start(window.periods[-1]) - dt.timedelta(days=1)
    return Window(Grain.MONTH, floor(window.periods[0], Grain.MONTH), last, window.tz)


def pooled_months(window: Window, now: dt.datetime) -> list[tuple[dt.date, dt.datetime]]:
    """(month, the UTC instant its query period ends) for every month a period pools (see the
    module doc); `now` is the query's instant, naive UTC."""
    if window.grain not in (*MONTHLY_GRAINS, Grain.ALL):
        return []
    out = []
    for period in window.periods:
        nxt = window.next_start(period)
        ends = local_to_utc(dt.datetime.combine(nxt, dt.time()), window.tz)
        months = periods(period, nxt - dt.timedelta(days=1), Grain.MONTH)
        out += [(m, ends) for m in months
                if local_to_utc(dt.datetime.combine(m, dt.time()), window.tz) < now]
    return out


def _placement(window: Window, now: dt.datetime) -> ibis.Table:
    import pyarrow as pa

    placed = pooled_months(window, now)
    return ibis.memtable(pa.table({"_pm": pa.array([m for m, _ in placed], pa.date32()),
                                   "_next": pa.array([e for _, e in placed], pa.timestamp("us"))}))


def _month_grid(months: list[dt.date], per: ibis.Table, dims: list[str]) -> ibis.Table:
    """Every month × every dimension value seen, with the month's churned and started accounts
    and those paying at its start when it is the first month (0 where nothing moved)."""
    grid = ibis.memtable({"_m": months}, schema={"_m": "date"})
    if dims:
        grid = grid.cross_join(per.select(*dims).distinct())
    right = per.select(_gm=per._month, **{f"_k{i}": per[d] for i, d in enumerate(dims)},
                       **{f"_{c}": per[c] for c in COUNTS})
    preds = [grid._m == right._gm] + [grid[d].identical_to(right[f"_k{i}"])
                                       for i, d in enumerate(dims)]
    j = grid.left_join(right, preds)
    return j.select("_m", *dims, **{c: j[f"_{c}"].fill_null(0) for c in COUNTS})


def churn_month_rows(ctx: Context) -> ibis.Table:
    """The `churn_months` entity: per pooled month and dimension value, `churned` (accounts with
    MRR at the previous month's end and none at this month's end) and `active_start` (accounts
    with MRR at the month's start), with `_next`, the end of the query period pooling it."""
    months = month_window(ctx.window)
    rows = with_account_dimensions(ctx, movement_rows(ctx.scope, months), "MRR movements")
    dims = ctx.dims
    per = rows.group_by([rows._period.name("_month"), *dims]).aggregate(
        **{c: rows[c].sum() for c in COUNTS})
    grid = _month_grid(months.periods, per, dims)
    w = ibis.cumulative_window(group_by=[grid[d] for d in dims], order_by=grid._m)
    active_end = (grid.base_active + grid.started - grid.churned).sum().over(w)
    grid = grid.mutate(active_start=active_end - grid.started + grid.churned)
    place = _placement(ctx.window, ctx.now)
    j = grid.join(place, grid._m == place._pm)
    return j.select("_next", *dims, churned=j.churned, active_start=j.active_start)


declare(Entity("churn_months", table="subscriptions", from_query=churn_month_rows,
               span=(("subscriptions", "started_at"), ("subscriptions", "ended_at")),
               description="Per month pooled into a query period: accounts churned and "
                           "active at the month's start."))
