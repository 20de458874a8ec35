"""Entities (semantic models): the row sets metrics aggregate, with their dimensions.

Each entity is a canonical table seen *as of* an instant (SPEC §5 `--as-of`), plus the tables its
ids point to (rep, account, campaign, lead), joined only when a dimension or filter needs them.
A dimension is a column of the entity itself, else of a joined table (`team` → the rep's team);
`account.industry`, `rep.team`, `lead.source` name one explicitly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace


@dataclass(frozen=True)
class Join:
    """`prefix.column` comes from `table`, matched on entity.`local_key` = table.`remote_key`."""

    prefix: str
    table: str
    local_key: str
    remote_key: str


JOINS: dict[str, tuple[Join, ...]] = {
    "leads": (Join("rep", "reps", "rep_id", "rep_id"),
              Join("account", "accounts", "account_id", "account_id"),
              Join("campaign", "campaigns", "campaign_id", "campaign_id")),
    "opportunities": (Join("lead", "leads", "lead_id", "lead_id"),
                      Join("rep", "reps", "rep_id", "rep_id"),
                      Join("account", "accounts", "account_id", "account_id")),
    "quotas": (Join("rep", "reps", "rep_id", "rep_id"),),
    "spend": (Join("campaign", "campaigns", "campaign_id", "campaign_id"),),
    "touchpoints": (Join("lead", "leads", "lead_id", "lead_id"),
                    Join("campaign", "campaigns", "campaign_id", "campaign_id")),
    "subscriptions": (Join("account", "accounts", "account_id", "account_id"),),
    "engagement_events": (Join("account", "accounts", "account_id", "account_id"),),
    "survey_responses": (),
}

# Entities that are another entity's rows with more columns take that entity's dimensions.
DIMENSIONS_OF = {"reach": "leads", "opportunities_with_lead": "opportunities",
                 "new_customers": "opportunities", "deals": "opportunities"}

# Calendar dates rather than instants: a period is read off the date itself, in no time zone
# (a quota for "2026-02-01" is February's wherever the workspace is).
CALENDAR_DATES: dict[str, set[str]] = {
    "quotas": {"period_start", "period_end"}, "spend": {"date"},
    "kpi_targets": {"period_start", "period_end"}, "fx_rates": {"date"},
}

# Columns that are measures or times, never offered as dimensions.
NOT_DIMENSIONS = {"created_at", "closed_at", "expected_close_at", "occurred_at", "started_at",
                  "ended_at", "amount", "probability", "mrr", "budget", "date", "period_start",
                  "period_end", "answered_at", "score", "weight", "rate_to_reporting", "target",
                  "employees"}


@dataclass
class Scope:
    """What every entity needs: the workspace and the instant it is seen at."""

    ws: Workspace
    as_of: dt.datetime | None = None
    builders: dict[str, Callable[[Scope], ibis.Table]] = field(default_factory=dict)

    def before(self, ts: ibis.Value) -> ibis.Value:
        """True where an instant is before the as-of instant (always, without one)."""
        return ibis.literal(True) if self.as_of is None else ts < self.as_of


def _leads(scope: Scope) -> ibis.Table:
    t = scope.ws.table("leads")
    return t if scope.as_of is None else t.filter(scope.before(t.created_at))


def _opportunities(scope: Scope) -> ibis.Table:
    """Opportunities as of the instant: a deal closed later is open, with no closed_at."""
    t = scope.ws.table("opportunities")
    if scope.as_of is not None:
        t = t.filter(scope.before(t.created_at))
    closed = t.status.isin(["won", "lost"]) & t.closed_at.notnull() & scope.before(t.closed_at)
    return t.mutate(status=ibis.ifelse(closed, t.status, "open"),
                    closed_at=ibis.ifelse(closed, t.closed_at, ibis.null("timestamp")))


def _opportunities_with_lead(scope: Scope) -> ibis.Table:
    """Opportunities with their lead's created_at (`lead_created_at`), for cycle-from-lead."""
    opps, leads = _opportunities(scope), scope.ws.table("leads")
    right = leads.select(_lid=leads.lead_id, lead_created_at=leads.created_at)
    return opps.left_join(right, opps.lead_id == right._lid).drop("_lid")


def _timed(name: str, column: str) -> Callable[[Scope], ibis.Table]:
    def build(scope: Scope) -> ibis.Table:
        t = scope.ws.table(name)
        return t if scope.as_of is None else t.filter(scope.before(t[column]))

    return build


def _subscriptions(scope: Scope) -> ibis.Table:
    """Subscriptions as of the instant: started before it; one that ended later is still active."""
    t = scope.ws.table("subscriptions")
    if scope.as_of is None:
        return t
    t = t.filter(scope.before(t.started_at))
    return t.mutate(ended_at=ibis.ifelse(t.ended_at >= scope.as_of, ibis.null("timestamp"),
                                         t.ended_at))


Builder = Callable[[Scope], ibis.Table]


def _in_reporting_currency(name: str, build: Builder, amounts: tuple[str, ...],
                           when: Callable[[ibis.Table], ibis.Value]) -> Builder:
    """`build` with amounts converted to the reporting currency (SPEC §2 fx_rates), probed once
    per scope (the converted table is kept in `scope.builders`)."""

    def converted(scope: Scope) -> ibis.Table:
        from funnelmetrics.revenue.fx import to_reporting

        t = to_reporting(scope, build(scope), amounts, when, name)
        scope.builders.setdefault(name, lambda _scope: t)
        return t

    return converted


def _lazy(module: str, name: str) -> Callable[..., ibis.Table]:
    """A function of another module, imported when first called (no import cycle)."""

    def call(*args: object) -> ibis.Table:
        import importlib

        return getattr(importlib.import_module(module), name)(*args)

    return call


BASES: dict[str, Callable[[Scope], ibis.Table]] = {
    "leads": _leads,
    # amounts at the rate of closed_at, or created_at while open
    "opportunities": _in_reporting_currency(
        "opportunities", _opportunities, ("amount",),
        lambda t: ibis.coalesce(t.closed_at, t.created_at)),
    "subscriptions": _in_reporting_currency(
        "subscriptions", _subscriptions, ("mrr",), lambda t: t.started_at),
    # opportunities for measures that read no amount: no currency conversion, no probe
    "deals": _opportunities,
    "new_customers": _lazy("funnelmetrics.revenue.customers", "new_customers"),
    "opportunities_with_lead": _opportunities_with_lead,
    "stage_events": _timed("stage_events", "occurred_at"),
    "deal_stage_events": _timed("deal_stage_events", "occurred_at"),
    "touchpoints": _timed("touchpoints", "occurred_at"),
    "spend": _in_reporting_currency("spend", _timed("spend", "date"), ("amount",),
                                    lambda t: t.date),
    "engagement_events": _timed("engagement_events", "occurred_at"),
    "survey_responses": _timed("survey_responses", "answered_at"),
    "quotas": lambda scope: scope.ws.table("quotas"),
}

_CHANNELS = "funnelmetrics.revenue.channels"

# Dimensions computed rather than read: (table, name) -> (scope, rows) -> rows with `dim:NAME`.
# A lead's channel is its campaign's channel, else its source; a deal's is its lead's; a spend
# row's is its own, else its campaign's; an account's (subscriptions) is its acquiring lead's
# (SPEC §3 cost_per_lead, cac; see funnelmetrics.revenue.channels).
COMPUTED_DIMENSIONS: dict[tuple[str, str], Callable[[Scope, ibis.Table], ibis.Table]] = {
    ("leads", "channel"): _lazy(_CHANNELS, "lead_channel"),
    ("opportunities", "channel"): _lazy(_CHANNELS, "deal_channel"),
    ("spend", "channel"): _lazy(_CHANNELS, "spend_channel"),
    ("subscriptions", "channel"): _lazy(_CHANNELS, "account_channel"),
    ("subscriptions", "campaign_id"): _lazy(_CHANNELS, "account_campaign"),
}

# Entities built from the whole compile context (the query's periods, dimensions, parameters):
# name -> (ctx) -> rows with their `dim:` columns attached and the query's filters applied.
DERIVED: dict[str, Callable[..., ibis.Table]] = {
    "account_mrr": _lazy("funnelmetrics.revenue.mrr", "account_mrr_rows"),
    "account_engagement": _lazy("funnelmetrics.revenue.engagement", "engagement_rows"),
    "credited_revenue": _lazy("funnelmetrics.revenue.credit", "credited_rows"),
}


def base(scope: Scope, entity: str) -> ibis.Table:
    """The entity's own rows as of the scope's instant."""
    builder = scope.builders.get(entity) or BASES.get(entity)
    if builder is None:
        return scope.ws.table(entity)
    return builder(scope)


def dimensions(scope: Scope, entity: str) -> list[str]:
    """Every dimension name the entity can be split or filtered by."""
    own = [c for c in scope.ws.columns(_table_of(entity)) if c not in NOT_DIMENSIONS]
    names = list(own)
    for join in JOINS.get(entity, ()):
        for col in scope.ws.columns(join.table):
            if col in NOT_DIMENSIONS or col == join.remote_key:
                continue
            names.append(f"{join.prefix}.{col}")
            if col not in names:
                names.append(col)
    names += [n for table, n in COMPUTED_DIMENSIONS if table == entity and n not in names]
    return names


def _table_of(entity: str) -> str:
    return DIMENSIONS_OF.get(entity, entity)


def resolve(scope: Scope, entity: str, name: str) -> tuple[Join | None, str]:
    """Where a dimension lives: (None, column) on the entity itself, or (join, column)."""
    own = scope.ws.columns(_table_of(entity))
    joins = JOINS.get(_table_of(entity), ())
    if "." in name:
        prefix, col = name.split(".", 1)
        for join in joins:
            if join.prefix == prefix and col in scope.ws.columns(join.table):
                return join, col
        if prefix == _table_of(entity).rstrip("s") and col in own:
            return None, col
    elif name in own and name not in NOT_DIMENSIONS:
        return None, name
    else:
        for join in joins:
            if name in scope.ws.columns(join.table) and name != join.remote_key:
                return join, name
    raise QueryError(f"unknown dimension {name!r} for {entity}; available: "
                     f"{', '.join(dimensions(scope, _table_of(entity)))}")


def with_dimensions(scope: Scope, entity: str, t: ibis.Table,
                    names: Iterable[str]) -> ibis.Table:
    """`t` (rows of `entity`) with a column `dim:NAME` for every requested dimension."""
    names = list(dict.fromkeys(names))
    computed = [n for n in names if (_table_of(entity), n) in COMPUTED_DIMENSIONS]
    for name in computed:
        t = COMPUTED_DIMENSIONS[(_table_of(entity), name)](scope, t)
    names = [n for n in names if n not in computed]
    if not names:
        return t
    placed = {name: resolve(scope, entity, name) for name in names}
    for join in sorted({j for j, _ in placed.values() if j is not None}, key=lambda j: j.prefix):
        cols = {f"{join.prefix}.{col}": col for j, col in placed.values() if j == join}
        other = scope.ws.table(join.table)
        right = other.select(_jk=other[join.remote_key], **{k: other[v] for k, v in cols.items()})
        t = t.left_join(right, t[join.local_key] == right._jk).drop("_jk")
    return t.mutate(**{f"dim:{name}": (t[col] if j is None else t[f"{j.prefix}.{col}"])
                       .cast("string") for name, (j, col) in placed.items()})


def dim_columns(names: Iterable[str]) -> list[str]:
    return [f"dim:{n}" for n in names]


def apply_where(t: ibis.Table, where: Mapping[str, object]) -> ibis.Table:
    """Filter on `dim:NAME` columns: a value, or a list of values (any of them)."""
    for name, wanted in where.items():
        col = t[f"dim:{name}"]
        values = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        texts = [str(v) for v in values if v is not None]
        cond = col.isin(texts) if texts else ibis.literal(False)
        if any(v is None for v in values):
            cond = cond | col.isnull()
        t = t.filter(cond)
    return t
