"""Tables a batch (`ws.batch()`, `ws.metrics()`) computes once for all its revenue queries.

Inside a batch on DuckDB, a costly intermediate table that several metrics read — the per-account
MRR movements, the new customers — is materialised once (a temporary table, dropped when the
batch ends); outside one, it stays part of each query's expression.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis

    from funnelmetrics.compile.entities import Scope


def shared(scope: Scope, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
    """`build()`, materialised once per batch under `key` (which must name everything the
    table depends on besides the workspace); just `build()` outside a batch."""
    from funnelmetrics.workspace import RELEASE

    memo = scope.ws.memo
    if memo is None or not scope.ws.is_duckdb:
        return build()
    if key not in memo:
        memo[key] = build().cache()
        memo.setdefault(RELEASE, []).append(memo[key])
    return memo[key]
