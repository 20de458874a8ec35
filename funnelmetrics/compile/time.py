"""Periods and instants (SPEC §3 "Time semantics").

Timestamps are stored as naive UTC. Periods are calendar-aligned in the workspace time zone: an
instant is converted to local wall time, then truncated to the grain (ISO weeks start Monday).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from funnelmetrics import engines
from funnelmetrics.compile.values import values_table
from funnelmetrics.errors import QueryError


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"  # one period: the whole requested range

    @property
    def unit(self) -> str:
        return {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}[self.value]


def parse_grain(value: str | Grain) -> Grain:
    try:
        return Grain(str(value).lower())
    except ValueError:
        raise QueryError(f"unknown grain {value!r}; use one of: "
                         f"{', '.join(g.value for g in Grain)}") from None


def parse_date(value: str | dt.date | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None
    check_year(what, day)  # typed text; a date object from the library may be a sentinel
    return day


MIN_YEAR, MAX_YEAR = 1900, 9998  # what a user may type: a period past it still fits a date


def check_year(what: str, day: dt.date | None) -> None:
    """A date within MIN_YEAR-MAX_YEAR (9999-12-31 overflows a period's end): else an error."""
    if day is None:
        return
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise QueryError(f"{what}: {day.isoformat()} is out of range ({MIN_YEAR}-{MAX_YEAR})")


def parse_instant(value: str | dt.date | None, tz: str) -> dt.datetime | None:
    """An `--as-of` value as a naive UTC instant; a date alone is local midnight that day."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise QueryError(f"--as-of: {value!r} is not a date or ISO 8601 instant") from None
    check_year("as_of", moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def floor(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the period containing `day`."""
    if grain in (Grain.DAY, Grain.ALL):
        return day
    if grain is Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    if grain is Grain.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def shift(day: dt.date, grain: Grain, n: int = 1) -> dt.date:
    """The start of the period `n` periods after the one starting at `day`."""
    if grain is Grain.DAY:
        return day + dt.timedelta(days=n)
    if grain is Grain.ALL:
        raise QueryError("grain 'all' has no previous or next period")
    if grain is Grain.WEEK:
        return day + dt.timedelta(weeks=n)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain] * n
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(start: dt.date, end: dt.date, grain: Grain) -> list[dt.date]:
    """Starts of every period that meets [start, end]."""
    out, day = [], floor(start, grain)
    while day <= end:
        out.append(day)
        day = shift(day, grain)
    return out


@cache
def fixed_offset(tz: str) -> dt.timedelta | None:
    """The zone's UTC offset when it has no daylight-saving changes in recent years, else None."""
    zone = ZoneInfo(tz)
    offsets = {dt.datetime(year, month, 15, tzinfo=zone).utcoffset()
               for year in range(2000, 2041) for month in (1, 4, 7, 10)}
    return offsets.pop() if len(offsets) == 1 else None


def local_to_utc(moment: dt.datetime, tz: str) -> dt.datetime:
    """Naive local wall time → naive UTC instant."""
    return moment.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC).replace(tzinfo=None)


def to_local(ts: ir.TimestampValue, tz: str) -> ir.TimestampValue:
    """Local wall time of a naive-UTC timestamp column: a fixed offset adds an interval (any
    engine); a zone with daylight saving asks the column's engine (`engines.to_local`: DuckDB's
    and PostgreSQL's timezone(), Spark's from_utc_timestamp)."""
    offset = fixed_offset(tz)
    if offset is not None:
        seconds = int(offset.total_seconds())
        return ts if seconds == 0 else ts + ibis.interval(seconds=seconds)
    return engines.to_local(ts, tz)


def period_of(ts: ir.TimestampValue, grain: Grain, tz: str) -> ir.DateValue:
    """The start date of the period (in the workspace zone) containing each instant."""
    local = to_local(ts, tz)
    if grain is Grain.DAY:
        return local.date()
    return local.truncate(grain.unit).date()


def period_key(ts: ir.TimestampValue, grain: Grain, tz: str) -> ir.Value:
    """What identifies the period containing each instant, cheap to compute and group by:
    the start date for days and weeks, an integer for months, quarters and years (truncating
    a timestamp to a month costs a scan several times what reading its year and month does).
    `key_start` turns it into the period's start date, once per group."""
    local = to_local(ts, tz)
    if grain is Grain.DAY:
        return local.date()
    if grain is Grain.WEEK:
        return local.truncate("W").date()
    if grain is Grain.MONTH:
        return local.year() * 12 + local.month() - 1
    if grain is Grain.QUARTER:
        return local.year() * 4 + local.quarter() - 1
    return local.year()


def key_start(key: ir.Value, grain: Grain) -> ir.DateValue:
    """The start date of the period a `period_key` names."""
    if grain in (Grain.DAY, Grain.WEEK, Grain.ALL):
        return key
    if grain is Grain.MONTH:
        return ibis.date(key // 12, key % 12 + 1, 1)
    if grain is Grain.QUARTER:
        return ibis.date(key // 4, key % 4 * 3 + 1, 1)
    return ibis.date(key, 1, 1)


@dataclass(frozen=True)
class Window:
    """The reporting range: whole periods from the one containing `start` to the one with `end`."""

    grain: Grain
    start: dt.date
    end: dt.date  # inclusive
    tz: str
    lead_in: int = 0  # whole periods before the one containing `start` (growth metrics)

    @property
    def periods(self) -> list[dt.date]:
        if self.grain is Grain.ALL:
            return [self.start]
        first = floor(self.start, self.grain)
        return [shift(first, self.grain, -k) for k in range(self.lead_in, 0, -1)] + periods(
            self.start, self.end, self.grain)

    def next_start(self, period: dt.date) -> dt.date:
        """The first day after the period that starts on `period`."""
        if self.grain is Grain.ALL:
            return self.end + dt.timedelta(days=1)
        return shift(period, self.grain)

    def period_of(self, ts: ir.TimestampValue, *, calendar: bool = False) -> ir.DateValue:
        if self.grain is Grain.ALL:
            return ibis.literal(self.start, "date")
        return period_of(ts, self.grain, "UTC" if calendar else self.tz)

    def period_key(self, ts: ir.TimestampValue, *, calendar: bool = False) -> ir.Value:
        """See `period_key`; `key_start` gives back the period's start date."""
        if self.grain is Grain.ALL:
            return ibis.literal(self.start, "date")
        return period_key(ts, self.grain, "UTC" if calendar else self.tz)

    def key_start(self, key: ir.Value) -> ir.DateValue:
        return key_start(key, self.grain)

    def bounds_utc(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, first instant after) of the range, as naive UTC."""
        lo = local_to_utc(dt.datetime.combine(self.start, dt.time()), self.tz)
        hi = local_to_utc(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()),
                          self.tz)
        return lo, hi

    def contains(self, ts: ir.TimestampValue, *, calendar: bool = False) -> ir.BooleanValue:
        """In [start, end]; with a lead-in, also anywhere in the whole periods before it.

        `calendar`: `ts` is a calendar date (quota period, spend day), compared without zones.
        """
        if calendar:
            lo = dt.datetime.combine(self.periods[0] if self.lead_in else self.start, dt.time())
            return (ts >= lo) & (ts < dt.datetime.combine(self.end + dt.timedelta(days=1),
                                                         dt.time()))
        lo, hi = self.bounds_utc()
        inside = (ts >= lo) & (ts < hi)
        if not self.lead_in:
            return inside
        first = floor(self.start, self.grain)
        lead_lo = local_to_utc(dt.datetime.combine(self.periods[0], dt.time()), self.tz)
        lead_hi = local_to_utc(dt.datetime.combine(first, dt.time()), self.tz)
        return inside | ((ts >= lead_lo) & (ts < lead_hi))

    def spine(self) -> ibis.Table:
        """One row per period: its start date and the UTC instant the next period starts.

        The same table for equal windows, so that queries of one batch can share what is
        built on it (and a backend registers it once)."""
        return _spine(self)


@lru_cache(maxsize=256)
def _spine(window: Window) -> ibis.Table:
    starts = window.periods
    nexts = [local_to_utc(dt.datetime.combine(window.next_start(p), dt.time()), window.tz)
             for p in starts]
    return values_table({"period_start": starts, "next_start": nexts},
                        {"period_start": "date", "next_start": "timestamp"})
