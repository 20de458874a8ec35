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
    """`build()`, materialised once per batch under `key` (see `Workspace.shared`)."""
    return scope.ws.shared(key, build)
