"""Amounts in the reporting currency (SPEC §2: a `currency` column plus an `fx_rates` table).

An amount converts at the latest `rate_to_reporting` of its currency dated on or before the
transaction's date (an ASOF join). A row in the reporting currency (`config.currency`) or with no
currency is left as it is. A foreign row without such a rate is a QueryError naming the currency
and the date. One cheap probe comes first: when no row is foreign the table is returned untouched,
with no join in the expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics import engines
from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    from funnelmetrics.semantic.model import Scope

When = Callable[[ibis.Table], ibis.Value]  # rows -> the instant whose rate applies
_HELPERS = ("_fx_code", "_fx_on", "_fx_currency", "_fx_date", "_fx_rate")


def currency_code(t: ibis.Table) -> ibis.Value:
    """The row's currency as an upper-case code, null when absent or blank."""
    return t.currency.strip().upper().nullif("")


def is_foreign(t: ibis.Table, reporting: str) -> ibis.Value:
    code = currency_code(t)
    return code.notnull() & (code != reporting.upper())


def has_rows(ws: Any, t: ibis.Table) -> bool:
    """An EXISTS-style probe: does `t` have at least one row? Asked through `ws.ask` (on DuckDB
    its own connection: Ibis's `execute` would load pandas for one number)."""
    return bool(ws.ask(t.limit(1).count())[0][0])


def to_reporting(scope: Scope, t: ibis.Table, amounts: Sequence[str], when: When,
                 what: str) -> ibis.Table:
    """`t` with `amounts` converted to the reporting currency at the rate of `when(t)`'s date."""
    if "currency" not in t.columns:
        return t
    reporting = scope.ws.config.currency
    key = ("fx", what, scope.as_of, reporting)
    if not scope.ws.probe(key, lambda: has_rows(scope.ws, t.filter(is_foreign(t, reporting)))):
        return t
    foreign = t.filter(is_foreign(t, reporting))
    foreign = foreign.mutate(_fx_code=currency_code(foreign), _fx_on=when(foreign))
    rates = scope.ws.table("fx_rates")
    rates = rates.select(_fx_currency=rates.currency.strip().upper(), _fx_date=rates.date,
                         _fx_rate=rates.rate_to_reporting.cast("float64"))
    if engines.has_asof(scope.ws.con.name):
        joined = foreign.asof_join(rates, on=foreign._fx_on >= rates._fx_date,
                                   predicates=[foreign._fx_code == rates._fx_currency])
    else:
        joined = rate_on_or_before(foreign, rates)
    scope.ws.probe(("fx-checked", *key), lambda: _check_rates(scope.ws, joined, what, reporting))
    # Only the foreign rows go through the join (most rows are usually in the reporting
    # currency); both halves carry the converted amounts' type.
    converted = joined.mutate(**{a: joined[a] * joined._fx_rate for a in amounts}).drop(*_HELPERS)
    home = t.filter(~is_foreign(t, reporting))
    home = home.mutate(**{a: home[a].cast(converted[a].type()) for a in amounts})
    return ibis.union(home, converted.select(*home.columns), distinct=False)


def rate_on_or_before(foreign: ibis.Table, rates: ibis.Table) -> ibis.Table:
    """The as-of join without an ASOF operator (Spark, PostgreSQL): the distinct (currency,
    instant) pairs of the rows and the rates' (currency, date) in one union, ordered by time
    with a rate before a row at the same instant; a running max of the rate dates gives each
    pair the date of its rate, then two equality joins bring the rate to the rows. A row with no
    rate on or before its instant gets a null rate (`_check_rates` reports it)."""
    ts = "timestamp"
    pairs = foreign.select(_fx_code=foreign._fx_code, _fx_at=foreign._fx_on.cast(ts)).distinct()
    dated = rates.group_by(["_fx_currency", "_fx_date"]).aggregate(
        _fx_rate=rates._fx_rate.max())
    events = ibis.union(
        pairs.mutate(_fx_kind=ibis.literal(1), _fx_day=ibis.null(ts)),
        dated.select(_fx_code=dated._fx_currency, _fx_at=dated._fx_date.cast(ts),
                     _fx_kind=ibis.literal(0), _fx_day=dated._fx_date.cast(ts)),
        distinct=False)
    running = ibis.window(group_by=events._fx_code, order_by=[events._fx_at, events._fx_kind],
                          preceding=None, following=0)
    found = events.mutate(_fx_rate_day=events._fx_day.max().over(running))
    found = found.filter(found._fx_kind == 1).select("_fx_code", "_fx_at", "_fx_rate_day")
    keyed = foreign.mutate(_fx_at=foreign._fx_on.cast(ts))
    with_day = keyed.left_join(found, ["_fx_code", "_fx_at"]).select(
        *keyed.columns, _fx_rate_day=found._fx_rate_day)
    joined = with_day.left_join(
        dated, [with_day._fx_code == dated._fx_currency,
                with_day._fx_rate_day == dated._fx_date.cast(ts)])
    return joined.select(*foreign.columns, _fx_currency=dated._fx_currency,
                         _fx_date=dated._fx_date, _fx_rate=dated._fx_rate)


def _check_rates(ws: Any, joined: ibis.Table, what: str, reporting: str) -> bool:
    """A clear error for the earliest foreign row that has no rate on or before its date;
    True when every foreign row has one. Asked through `ws.ask` (no pandas on DuckDB)."""
    missing = joined.filter(joined._fx_code.notnull() & joined._fx_rate.isnull())
    first = ws.ask(missing.select(code=missing._fx_code, on=missing._fx_on)
                   .order_by(["on", "code"]).limit(1))
    if not first:
        return True
    code, on = first[0]
    day = on.date().isoformat() if isinstance(on, dt.datetime) else str(on)
    raise QueryError(f"no exchange rate for {code} on or before {day} (needed by {what}): add a "
                     f"row to fx_rates with currency {code}, a date on or before {day} and "
                     f"rate_to_reporting into {reporting}")
