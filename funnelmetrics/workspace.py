"""A workspace: one database (a DuckDB file by default, any Ibis backend by URL) plus its settings.

This is the thin object over an Ibis connection that every interface (Python, CLI, REST) uses.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics.config import CONFIG_NAME, DEFAULT_TOML, Config, load_config
from funnelmetrics.errors import ConfigError, FunnelmetricsError
from funnelmetrics.schema import QUARANTINE_COLUMNS, QUARANTINE_TABLE, TABLES, create_sql

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend


RELEASE = "release"  # memo key: cached tables to drop when the batch ends
PLAN = "plan"  # memo key: while `metrics` plans, the grouped aggregates its queries will need
FUSED = "fused"  # memo key: grouped aggregates computed once for several queries of a batch


@dataclass
class _Planned:
    """While `prepare` plans: the rows one grouping reads, how many queries group them, and
    every aggregate they want (by expression, so that equal ones are computed once)."""

    rows: ibis.Table
    uses: int = 0
    wanted: dict[Any, ibis.Value] = field(default_factory=dict)


def _is_url(target: str) -> bool:
    return "://" in target


class Workspace:
    """One workspace: an Ibis connection, the settings and the canonical tables of SPEC §2."""

    def __init__(self, con: BaseBackend, *, config: Config, directory: Path | None,
                 location: str) -> None:
        self.con = con
        self.config = config
        self.directory = directory
        self.location = location
        self._tables: dict[str, ibis.Table] = {}  # table handles, valid for `_schema`
        self._schema: object = None
        self.memo: dict[Any, Any] | None = None  # a batch's shared results (see `batch`)

    # ---- connection -------------------------------------------------------------------------
    @property
    def is_duckdb(self) -> bool:
        return self.con.name == "duckdb"

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection (DuckDB-specific paths only: ingest, raw SQL)."""
        if not self.is_duckdb:
            raise ConfigError(f"this needs a DuckDB workspace, not {self.con.name}")
        return self.con.con

    def close(self) -> None:
        self.con.disconnect()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- tables -----------------------------------------------------------------------------
    def init(self, *, write_config: bool = True) -> list[str]:
        """Create every canonical table that is missing (and `funnelmetrics.toml`); returns them."""
        self.forget()
        existing = set(self.con.list_tables())
        created = []
        for table in TABLES.values():
            if table.name not in existing:
                self.raw_sql(create_sql(table))
                created.append(table.name)
        if QUARANTINE_TABLE not in existing:
            cols = ", ".join(f'"{k}" {v}' for k, v in QUARANTINE_COLUMNS.items())
            self.raw_sql(f'CREATE TABLE IF NOT EXISTS "{QUARANTINE_TABLE}" ({cols})')
        if write_config and self.directory is not None:
            path = self.directory / CONFIG_NAME
            if not path.exists():
                path.write_text(DEFAULT_TOML, encoding="utf-8")
        return created

    def raw_sql(self, sql: str) -> None:
        self.forget()
        if self.is_duckdb:
            self.duckdb.execute(sql)
        else:
            self.con.raw_sql(sql)

    def has_table(self, name: str) -> bool:
        return name in self._tables or name in self.con.list_tables()

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the workspace; a canonical table that was never loaded is empty.

        Handles are kept (looking a table up costs a catalogue query) until `refresh` sees
        the schema change or the workspace itself writes.
        """
        if name not in self._tables:
            if name in TABLES and name not in self.con.list_tables():
                self.init(write_config=False)
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def forget(self) -> None:
        """Drop the kept table handles (after a write that may change a schema)."""
        self._tables.clear()
        self._schema = None

    def refresh(self) -> None:
        """Drop the kept table handles if the schema changed behind the workspace's back
        (another connection's DDL). DuckDB: one catalogue query; other engines: always."""
        if not self.is_duckdb:
            self.forget()
            return
        token = self.duckdb.execute(
            "SELECT hash(list(table_name || '.' || column_name || ':' || data_type "
            "ORDER BY table_name, column_index)) FROM duckdb_columns() "
            "WHERE database_name <> 'temp' AND NOT internal").fetchone()
        if token != self._schema:
            self._tables.clear()
            self._schema = token

    def shared(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        """`build()`, materialised once per batch under `key` (a temporary table, dropped when
        the batch ends; the key must name everything the table depends on besides the
        workspace); just `build()` outside a batch or on another engine than DuckDB."""
        if self.memo is None or not self.is_duckdb:
            return build()
        if key not in self.memo:
            self.memo[key] = build().cache()
            self.memo.setdefault(RELEASE, []).append(self.memo[key])
        return self.memo[key]

    def grouped(self, rows: ibis.Table, keys: list[str],
                aggregates: Mapping[str, ibis.Value]) -> ibis.Table:
        """`rows.group_by(keys).aggregate(**aggregates)`. Inside `metrics`, the queries that
        group the same rows by the same keys are answered by one aggregate, computed once
        with all their measures (see `prepare`)."""
        memo = self.memo
        if memo is not None:
            slot = (rows.op(), tuple(keys))
            if PLAN in memo:
                planned = memo[PLAN].setdefault(slot, _Planned(rows))
                planned.uses += 1
                planned.wanted.update((a.op(), a) for a in aggregates.values())
            done = memo.get(FUSED, {}).get(slot)
            if done is not None and all(a.op() in done[1] for a in aggregates.values()):
                table, names = done
                return table.select(*keys, **{n: table[names[a.op()]]
                                              for n, a in aggregates.items()})
        return rows.group_by(keys).aggregate(**aggregates)

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
        if self.memo is None or not self.is_duckdb:
            return
        self.memo[PLAN] = {}
        try:
            for metric_id, query in queries:
                with suppress(FunnelmetricsError):  # the query itself reports it, in its turn
                    self.expr(metric_id, **query)
        finally:
            plan = self.memo.pop(PLAN)
        fused = self.memo.setdefault(FUSED, {})
        for slot, planned in plan.items():
            if planned.uses < 2:  # one query alone: nothing to share
                continue
            names = {op: f"_f{i}" for i, op in enumerate(planned.wanted)}
            aggregates = {names[op]: value for op, value in planned.wanted.items()}
            table = self.shared(("fused", slot), lambda p=planned, k=list(slot[1]), a=aggregates:
                                p.rows.group_by(k).aggregate(**a))
            fused[slot] = (table, names)

    @contextmanager
    def batch(self) -> Iterator[Workspace]:
        """Queries run inside share what does not change between them: table handles, the
        currency probes, and (DuckDB) intermediate tables several metrics read, such as the
        leads' stage reach times, materialised once. Nested batches join the outer one.

        >>> with ws.batch():  # doctest: +SKIP
        ...     rates = [ws.metric("stage_conversion_rate", from_stage=s) for s in ("mql", "sql")]
        """
        if self.memo is not None:
            yield self
            return
        self.refresh()
        self.memo = {}
        try:
            yield self
        finally:
            memo, self.memo = self.memo, None
            for cached in memo.get(RELEASE, ()):
                cached.release()

    def columns(self, name: str) -> list[str]:
        return list(self.table(name).columns)

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
        memo, self.memo = self.memo, None
        try:
            return str(ibis.to_sql(self.expr(metric_id, **query), dialect=self.con.name))
        finally:
            self.memo = memo

    def funnel(self, **query: Any) -> Any:
        """Per stage: leads reaching it in the period, conversion to the next, drop-off, time."""
        from funnelmetrics.funnel import funnel_table

        if self.memo is None:
            self.refresh()
        return funnel_table(self, **query)

    def ingest(self, paths: list[str | Path], **options: Any) -> Any:
        """Validate and load files (SPEC §2); see `funnelmetrics.ingest.load`."""
        from funnelmetrics.ingest import load

        self.forget()
        try:
            return load(self, [Path(p) for p in paths], **options)
        finally:
            self.forget()

    def check(self, paths: list[str | Path], **options: Any) -> Any:
        """The same validation as `ingest`, as a dry run: nothing is written."""
        return self.ingest(paths, dry_run=True, **options)


def open(target: str | Path = "funnel.duckdb", *, config: Config | None = None,  # noqa: A001
         read_only: bool = False) -> Workspace:
    """Open (or create) a workspace: a DuckDB file path, or an Ibis URL such as `postgres://…`."""
    target = str(target)
    if _is_url(target):
        con = ibis.connect(target)
        directory = None
    else:
        path = Path(target)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(str(path), read_only=read_only)
        con.con.execute("SET TimeZone = 'UTC'")
        # DuckDB's own progress bar writes to stdout, which would corrupt JSON/CSV output.
        con.con.execute("SET enable_progress_bar = false")
        directory = path.resolve().parent
    ws = Workspace(con, config=config or load_config(directory), directory=directory,
                   location=target)
    if not read_only:
        ws.init(write_config=False)
    return ws
