"""The connection under a workspace: one database (a DuckDB file by default, any Ibis backend by
URL), its settings and the canonical tables of SPEC §2.

Everything below the metric façade (the semantic model, ingest, the compiler) works with this
handle; `funnelmetrics.workspace.Workspace` adds the façade (metrics, batches, ingest) on top.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import ibis

from funnelmetrics import engines
from funnelmetrics.compile.batch import Batch
from funnelmetrics.config import CONFIG_NAME, DEFAULT_TOML, Config
from funnelmetrics.errors import ConfigError
from funnelmetrics.schema import QUARANTINE_COLUMNS, QUARANTINE_TABLE, TABLES, create_sql

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend


class Connection:
    """An Ibis connection, the workspace's settings and its canonical tables (SPEC §2)."""

    def __init__(self, con: BaseBackend, *, config: Config, directory: Path | None,
                 location: str) -> None:
        self.con = con
        self.config = config
        self.directory = directory
        self.location = location
        self._tables: dict[str, ibis.Table] = {}  # table handles, valid for `_schema`
        self._schema: object = None
        self.batch_state: Batch | None = None  # the running batch (`Workspace.batch`), if any
        self.asked: list[tuple[str, list[tuple]]] | None = None  # questions `ask` noted

    # ---- connection -------------------------------------------------------------------------
    @property
    def is_duckdb(self) -> bool:
        return self.con.name == "duckdb"

    @property
    def engine(self) -> ModuleType:
        """What is specific to this connection's engine (`funnelmetrics.engines`)."""
        return engines.for_name(self.con.name)

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection (DuckDB-specific paths only: ingest, raw SQL)."""
        if not self.is_duckdb:
            raise ConfigError(f"this needs a DuckDB workspace, not {self.con.name}")
        return self.con.con

    def close(self) -> None:
        self.con.disconnect()

    def __enter__(self) -> Connection:
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
                if self.is_duckdb:
                    self.raw_sql(create_sql(table))
                else:
                    self.engine.create_table(self.con, table.name,
                                             {c.name: c.kind.ibis for c in table.columns})
                created.append(table.name)
        if QUARANTINE_TABLE not in existing:
            if self.is_duckdb:
                cols = ", ".join(f'"{k}" {v}' for k, v in QUARANTINE_COLUMNS.items())
                self.raw_sql(f'CREATE TABLE IF NOT EXISTS "{QUARANTINE_TABLE}" ({cols})')
            else:
                self.engine.create_table(self.con, QUARANTINE_TABLE, {
                    k: {"TIMESTAMP": "timestamp", "BIGINT": "int64"}.get(v, "string")
                    for k, v in QUARANTINE_COLUMNS.items()})
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
        return name in self._tables or name in self._table_names()

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the workspace; a canonical table that was never loaded is empty.

        Handles are kept (looking a table up costs a catalogue query) until `refresh` sees
        the schema change or the workspace itself writes.
        """
        if name not in self._tables:
            if name in TABLES and name not in self._table_names():
                self.init(write_config=False)
            self._tables[name] = self._duckdb_table(name) if self.is_duckdb else \
                self.con.table(name)
        return self._tables[name]

    # DuckDB's catalogue read as tuples: Ibis's list_tables and table fetch it as Arrow, which
    # loads pyarrow (a fifth of a small metric's time on the command line)
    def _table_names(self) -> list[str]:
        if not self.is_duckdb:
            return self.con.list_tables()
        rows = self.duckdb.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_catalog IN "
            "(current_database(), 'temp') AND table_schema = current_schema()").fetchall()
        return [r[0] for r in rows]

    def _duckdb_table(self, name: str) -> ibis.Table:
        """What the DuckDB backend's `table(name)` gives: the table with its schema as
        DESCRIBE gives it."""
        import ibis.expr.operations as ops

        described = self.duckdb.execute(
            'DESCRIBE "' + name.replace('"', '""') + '"').fetchall()
        mapper = self.con.compiler.type_mapper
        schema = ibis.schema({column: mapper.from_string(kind, nullable=null == "YES")
                              for column, kind, null, *_ in described})
        if schema.geospatial:
            self.con.load_extension("spatial")
        return ops.DatabaseTable(name, schema=schema, source=self.con,
                                 namespace=ops.Namespace(catalog=None, database=None)).to_expr()

    def ask(self, expr: ibis.Expr) -> list[tuple]:
        """The rows of a small question the compiler asks the data (a default range's first
        and last days) as tuples. DuckDB: its SQL through DuckDB's own connection (Ibis's
        `execute` and `to_pyarrow` load pandas and pyarrow, more than the answer costs), noted
        in `asked` while a list is there (`query.kept_query` keeps them as probes); a question
        that reads a session table, and other engines: through Ibis."""
        import ibis.expr.operations as ops

        if not self.is_duckdb or expr.op().find(ops.InMemoryTable):
            answer = expr.to_pyarrow()
            if not hasattr(answer, "to_pylist"):  # a scalar question: one row of one value
                return [(answer.as_py(),)]
            return [tuple(row.values()) for row in answer.to_pylist()]
        sql = self.con.compile(expr)  # as Ibis would run it
        rows = self.duckdb.execute(sql).fetchall()
        if self.asked is not None:
            self.asked.append((sql, rows))
        return rows

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
        """`build()`, materialised once per batch under `key` (`compile.batch.Batch.shared`);
        just `build()` outside a batch."""
        return build() if self.batch_state is None else self.batch_state.shared(key, build)

    def probe(self, key: Hashable, answer: Callable[[], bool]) -> bool:
        """`answer()`, asked once per batch under `key`; every time outside a batch."""
        return answer() if self.batch_state is None else self.batch_state.probe(key, answer)

    def grouped(self, rows: ibis.Table, keys: list[str],
                aggregates: Mapping[str, ibis.Value]) -> ibis.Table:
        """`rows.group_by(keys).aggregate(**aggregates)`; in a batch, read from an aggregate
        fused for several queries where there is one (`compile.batch.Batch.grouped`)."""
        if self.batch_state is None:
            return rows.group_by(keys).aggregate(**aggregates)
        return self.batch_state.grouped(rows, keys, aggregates)

    def columns(self, name: str) -> list[str]:
        return list(self.table(name).columns)
