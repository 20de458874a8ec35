"""Dimensions of per-account rows (MRR movements, engagement scores).

Movements and scores are per account (SPEC §3), so they split by what describes an account:
`account_id`, a column of `accounts` (industry, segment, country, name; `account.industry` too),
and the account's acquisition `channel` / `campaign_id` (`channels.acquiring_leads`). A
subscription's own columns (plan, currency) are not account attributes: splitting movements by them
is a clear QueryError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.errors import QueryError
from funnelmetrics.semantic.registry import apply_where, derived_columns, resolve, with_dimensions

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context

# Dimensions are resolved as if the rows were subscriptions (an account_id and its joins).
AS_ENTITY = "subscriptions"


def account_dimension_names(ctx: Context) -> list[str]:
    return list(dict.fromkeys([*ctx.by, *ctx.where]))


def check_account_dimensions(ctx: Context, names: Iterable[str], what: str) -> None:
    """Every name is an account attribute, else a QueryError saying what is possible."""
    names = list(names)
    computed = {c.name for c in derived_columns(ctx.scope, AS_ENTITY, names)}
    for name in names:
        if name in computed:
            continue
        join, col = resolve(ctx.scope, AS_ENTITY, name)
        if join is None and col != "account_id":
            raise QueryError(f"{what} are per account: {name!r} is not an account attribute; "
                             "split by account_id, channel, campaign_id or a column of accounts")


def with_account_dimensions(ctx: Context, rows: ibis.Table, what: str) -> ibis.Table:
    """Per-account rows (an `account_id` column) with the query's dimensions, filters applied."""
    names = account_dimension_names(ctx)
    check_account_dimensions(ctx, names, what)
    rows = with_dimensions(ctx.scope, AS_ENTITY, rows, names)
    return apply_where(rows, ctx.where)
