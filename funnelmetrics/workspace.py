"""A workspace: the connection (`funnelmetrics.connection`) plus the small façade every interface
(Python, CLI, REST) uses — metrics one by one or in a batch, their SQL, ingest.

>>> ws = funnelmetrics.open("funnel.duckdb")  # doctest: +SKIP
>>> ws.metric("win_rate", grain="quarter", by="source")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import ibis

from funnelmetrics import engines
from funnelmetrics.compile.batch import Batch
from funnelmetrics.config import Config, load_config
from funnelmetrics.connection import Connection
from funnelmetrics.errors import FunnelmetricsError
from funnelmetrics.revenue import credit

# the attribution models are marketing_roi's credit models, loaded when one is first asked for
credit.add_provider(lambda: importlib.import_module("funnelmetrics.attribution.credit"))


class Workspace(Connection):
    """One workspace: its connection and tables (`Connection`) and the metric and ingest façade."""

    # ---- batches ----------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[Workspace]:
        """Queries run inside share what does not change between them: table handles, the
        currency probes, and (DuckDB) intermediate tables several metrics read, such as the
        leads' stage reach times, materialised once (`compile.batch`). Nested batches join the
        outer one.

        >>> with ws.batch():  # doctest: +SKIP
        ...     rates = [ws.metric("stage_conversion_rate", from_stage=s) for s in ("mql", "sql")]
        """
        if self.batch_state is not None:
            yield self
            return
        self.refresh()
        self.batch_state = Batch(materialise=self.is_duckdb)
        try:
            yield self
        finally:
            state, self.batch_state = self.batch_state, None
            state.release()

    def prepare(self, queries: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Inside a batch, announce the metric queries it will run (id, options): every
        query is built (nothing is run but the shared tables building needs), then each grouped
        aggregate that several of them need is computed once, with all their measures. The
        queries themselves run afterwards, in any order, each reading its part of those
        aggregates. Outside a batch this does nothing (there would be nowhere to keep them).

        >>> with ws.batch():  # doctest: +SKIP
        ...     ws.prepare([("stage_reached", {"stage": "sql"}), ("win_rate", {})])
        ...     sql, win = ws.metric("stage_reached", stage="sql"), ws.metric("win_rate")
        """
        if self.batch_state is None:
            return
        items = list(queries)

        def build_all() -> None:
            for metric_id, query in items:
                with suppress(FunnelmetricsError):  # the query itself reports it, in its turn
                    self.expr(metric_id, **query)

        self.batch_state.fuse(build_all)

    # ---- metrics ----------------------------------------------------------------------------
    def metric(self, metric_id: str, **query: Any) -> Any:
        """One metric as a table: `period_start`, dimension columns, `value`, ratio parts.

        >>> ws.metric("win_rate", grain="month", by="source", start="2026-01-01")  # doctest: +SKIP
        """
        from funnelmetrics.query import run_metric

        return run_metric(self, metric_id, **query)

    def metrics(self, queries: Iterable[str | tuple[str, Mapping[str, Any]]],
                **common: Any) -> list[Any]:
        """Several metric queries in one `batch` (faster than one by one: shared work is done
        once). Each is a metric id or (id, its own options); `common` options apply to all.

        >>> ws.metrics(["win_rate", ("stage_reached", {"stage": "sql"})], start="2026-01-01")
        ... # doctest: +SKIP
        """
        items = [(q, dict(common)) if isinstance(q, str) else (q[0], {**common, **q[1]})
                 for q in queries]
        with self.batch():
            if len(items) > 1:
                self.prepare(items)
            return [self.metric(metric_id, **query) for metric_id, query in items]

    def expr(self, metric_id: str, **query: Any) -> ibis.Table:
        """The Ibis expression of a metric query (nothing is executed)."""
        from funnelmetrics.query import metric_expr

        return metric_expr(self, metric_id, **query)

    def explain(self, metric_id: str, **query: Any) -> str:
        """The SQL the backend runs for a metric query, on its own (outside any batch, whose
        shared tables it would otherwise name)."""
        state, self.batch_state = self.batch_state, None
        try:
            return str(ibis.to_sql(self.expr(metric_id, **query), dialect=self.con.name))
        finally:
            self.batch_state = state

    def ingest(self, paths: list[str | Path], **options: Any) -> Any:
        """Validate and load files (SPEC §2); see `funnelmetrics.ingest.load`."""
        from funnelmetrics.ingest import load

        self.forget()
        try:
            if not self.is_duckdb:  # validated in a local DuckDB, written by the engine
                from funnelmetrics.ingest.on_engine import load_on_engine

                return load_on_engine(self, [Path(p) for p in paths], **options)
            return load(self, [Path(p) for p in paths], **options)
        finally:
            self.forget()

    def check(self, paths: list[str | Path], **options: Any) -> Any:
        """The same validation as `ingest`, as a dry run: nothing is written."""
        return self.ingest(paths, dry_run=True, **options)


def open(target: str | Path = "funnel.duckdb", *, config: Config | None = None,  # noqa: A001
         read_only: bool = False) -> Workspace:
    """Open (or create) a workspace: a DuckDB file path, or an engine's URL,
    `pyspark:///WAREHOUSE_DIR?spark.master=local[2]` or `postgres://user:pass@host:port/db`
    (see `funnelmetrics.engines`). A URL that cannot be opened is a ConfigError naming the
    engine; nothing is created in its place."""
    target = str(target)
    con, directory = engines.for_target(target).connect(target, read_only=read_only)
    ws = Workspace(con, config=config or load_config(directory), directory=directory,
                   location=target)
    if not read_only:
        ws.init(write_config=False)
    return ws
