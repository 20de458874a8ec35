"""Validated, transactional, idempotent loading of data files into a workspace (SPEC §2).

One load is one transaction. Tables are taken in `LOAD_ORDER`, so a stage event may name a lead
accepted earlier in the same load. Per table: every file is staged in one scan (typed values and
row-rule bits), set rules (references, conflicting duplicate keys) flag rows with one join each,
rejected rows go to the quarantine, and accepted rows replace any stored row with the same key.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest import quarantine
from funnelmetrics.ingest.readers import DataFile, Source, discover, ident, open_source, sql_str
from funnelmetrics.ingest.report import FileReport, LoadReport, RejectedRowsError, TableReport
from funnelmetrics.ingest.rules import DUPLICATE_KEY, Check, row_checks, set_checks
from funnelmetrics.ingest.stage import BAD, ROW, STAGE_TYPE, Layout, layout, stage_sql
from funnelmetrics.schema import LOAD_ORDER, TABLES, Kind, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

Progress = Callable[[Path, float], object]
COPY_BIT = 1 << 62  # an exact duplicate of an accepted row: skipped, not rejected
PROBLEM_MASK = COPY_BIT - 1
FILE_SHIFT = 40  # __fm_ord = file index << 40 | stage rowid
PROGRESS_MIN_BYTES = 4 << 20
MAX_PROBLEMS = 1000
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


@dataclass
class Staged:
    """One file in its stage table."""

    file: DataFile
    name: str
    layout: Layout
    row_sql: str  # the row number as the user sees it, over the stage table
    base: int  # rowid of the stage's first row (rows written in a transaction start high)

    @property
    def key(self) -> str:
        return str(self.file.path.resolve())


def load(ws: Workspace, paths: list[Path], *, table: str | None = None, dry_run: bool = False,
         strict: bool = False, progress: Progress | None = None,
         quarantine_dir: Path | None = None) -> LoadReport:
    """Validate and load files; rejected rows go to the quarantine. See SPEC §2 "Bad input".

    `dry_run` validates and reports without writing anything; `strict` writes nothing when any
    row is rejected and raises `RejectedRowsError` (an InputError carrying the report).
    `progress(file, fraction)` is called as files are read (from a helper thread for big files).
    """
    con = ws.duckdb
    files = sorted(discover([Path(p) for p in paths], table),
                   key=lambda f: LOAD_ORDER.index(f.table))
    qdir = quarantine_dir or (ws.directory / "quarantine" if ws.directory else None)
    report = LoadReport(dry_run=dry_run)
    run = _Load(con, list(ws.config.stages), report, progress)
    with _utc(con):
        _transaction(con, run, files, report, dry_run=dry_run, strict=strict, qdir=qdir)
    if strict and report.rejected:
        where = f"; see {report.quarantine}" if report.quarantine else ""
        raise RejectedRowsError(f"{report.rejected} row(s) rejected, nothing loaded "
                                f"(strict mode){where}", report)
    return report


@contextlib.contextmanager
def _utc(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Parse in UTC (a date alone is 00:00 UTC, SPEC §2) whatever the session's zone."""
    zone = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]  # type: ignore[index]
    if zone != "UTC":
        con.execute("SET TimeZone = 'UTC'")
    try:
        yield
    finally:
        if zone != "UTC":
            con.execute(f"SET TimeZone = {sql_str(zone)}")


def _transaction(con: duckdb.DuckDBPyConnection, run: _Load, files: list[DataFile],
                 report: LoadReport, *, dry_run: bool, strict: bool, qdir: Path | None) -> None:
    """Everything a load writes, in one transaction (rolled back for dry runs and failures)."""
    con.execute("BEGIN TRANSACTION")
    try:
        quarantine.create_problems(con)
        for name, group in groupby(files, key=lambda f: f.table):
            run.table(TABLES[name], list(group))
        report.problems, report.problems_truncated = quarantine.problems(con, MAX_PROBLEMS)
        if not dry_run:
            quarantine.store(con, [str(f.path.resolve()) for f in files], run.loaded_at)
            _write_quarantine_files(con, report, qdir)
        con.execute(f"DROP TABLE IF EXISTS {quarantine.PROBLEMS}")
        if dry_run or (strict and report.rejected):
            con.execute("ROLLBACK")
        else:
            con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def _write_quarantine_files(con: duckdb.DuckDBPyConnection, report: LoadReport,
                            qdir: Path | None) -> None:
    """One `<stem>.quarantine.csv` per file with rejected rows; the report points at them."""
    if qdir is None:
        return
    written = []
    for f in report.files:
        path = qdir / f"{_stem(f.path)}.quarantine.csv"
        if quarantine.write_csv(con, str(f.path.resolve()), path):
            f.quarantine = path
            written.append(path)
    report.quarantine = written[0] if len(written) == 1 else (qdir if written else None)


def _stem(path: Path) -> str:
    """`leads.csv.gz` → `leads`, `leads.2026-01.csv` → `leads.2026-01`."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return name.rsplit(".", 1)[0]


class _Load:
    """The state of one load: connection, stage names, report, progress."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stages: list[str], report: LoadReport,
                 progress: Progress | None) -> None:
        self.con = con
        self.stages = stages
        self.report = report
        self.progress = progress
        self.loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.counter = 0

    # ---- one table ------------------------------------------------------------------------------
    def table(self, table: Table, files: list[DataFile]) -> None:
        """Stage, check, quarantine and write every file of one table."""
        checks = row_checks(table, self.stages)
        later = set_checks(table)
        staged = [self.stage(table, f, checks) for f in files]
        try:
            rows = _union(staged)
            self.flag(table, staged, rows, len(checks), later)
            self.collect(table, staged, rows, checks + later)
            self.write(table, staged, rows)
        finally:
            for s in staged:
                self.con.execute(f"DROP TABLE IF EXISTS {s.name}")

    def stage(self, table: Table, file: DataFile, checks: list[Check]) -> Staged:
        """Read one file into its stage table (one scan), or raise a one-line InputError."""
        self.counter += 1
        name = f"__fm_stage_{self.counter}"
        self._tick(file, 0.0)
        source = open_source(self.con, file, str(self.counter))
        try:
            lay = layout(table, source)
            _require(table, source, lay)
            with self._watch(file):
                self.con.execute(stage_sql(name, table, source, checks, self.stages))
        except READ_ERRORS as exc:
            raise source.error(exc) from None
        finally:
            source.close()
        first = self.con.execute(f"SELECT min(rowid) FROM {name}").fetchone()
        base = first[0] if first and first[0] is not None else 0
        row_sql = ROW if source.row_expr else f"rowid - {base} + {source.row_offset}"
        return Staged(file, name, lay, row_sql, base)

    def flag(self, table: Table, staged: list[Staged], rows: str, first_bit: int,
             later: list[Check]) -> None:
        """Run the set rules and OR their bits into the stage tables."""
        for i, check in enumerate(later):
            bit = 1 << (first_bit + i)
            if check.code == DUPLICATE_KEY:
                self._apply(staged, _duplicate_flags(self.con, table, rows, bit))
            else:
                ref = next(r for r in table.references if r.column == check.column)
                self._apply(staged, f"SELECT __fm_ord, CAST({bit} AS BIGINT) FROM {rows} s "
                                    f"WHERE s.{ident(ref.column)} IS NOT NULL AND NOT EXISTS "
                                    f"(SELECT 1 FROM {ident(ref.table)} t "
                                    f"WHERE t.{ident(ref.target)} = s.{ident(ref.column)})")

    def _apply(self, staged: list[Staged], flags_sql: str | None) -> None:
        """OR flag bits (rows `SELECT ord, bit`) into the stage tables."""
        if flags_sql is None:
            return
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_flags AS "
                         f"SELECT ord, bit_or(bit) AS bits FROM ({flags_sql}) f(ord, bit) "
                         f"GROUP BY ord")
        try:
            if not self.con.execute("SELECT count(*) FROM __fm_flags").fetchone()[0]:  # type: ignore[index]
                return
            mask = (1 << FILE_SHIFT) - 1
            for i, s in enumerate(staged):
                self.con.execute(
                    f"UPDATE {s.name} SET {BAD} = {s.name}.{BAD} | f.bits FROM "
                    f"(SELECT (ord & {mask}) + {s.base} AS rid, bits FROM __fm_flags "
                    f"WHERE ord >> {FILE_SHIFT} = {i}) f WHERE {s.name}.rowid = f.rid")
        finally:
            self.con.execute("DROP TABLE IF EXISTS __fm_flags")

    def collect(self, table: Table, staged: list[Staged], rows: str,
                checks: list[Check]) -> None:
        """Count rows per file and record the problem lines of rejected rows."""
        rejected = 0
        for s in staged:
            n, bad = self.con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE ({BAD} & {PROBLEM_MASK}) <> 0) "
                f"FROM {s.name}").fetchone()  # type: ignore[misc]
            fr = FileReport(rows=n, accepted=n - bad, rejected=bad, path=s.file.path,
                            table=table.name)
            self.report.files.append(fr)
            self.report.tables.setdefault(table.name, TableReport()).add(fr)
            rejected += bad
        if not rejected:
            return
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_rejected AS SELECT * FROM {rows} "
                         f"WHERE ({BAD} & {PROBLEM_MASK}) <> 0")
        try:
            quarantine.collect(self.con, table, "__fm_rejected", checks,
                               [s.key for s in staged])
        finally:
            self.con.execute("DROP TABLE IF EXISTS __fm_rejected")

    def write(self, table: Table, staged: list[Staged], rows: str) -> None:
        """Accepted rows replace stored rows with the same key (keyless: add unseen rows)."""
        extras = _add_extra_columns(self.con, table, staged)
        cols = [*table.names, *extras]
        present = {c for s in staged for c in (*table.names, *s.layout.extras)}
        select = ", ".join(_insert_value(table, c, c in present) for c in cols)
        accepted = f"SELECT {select} FROM {rows} WHERE {BAD} = 0"
        target = ident(table.name)
        names = ", ".join(ident(c) for c in cols)
        if not table.key:
            self.con.execute(f"INSERT INTO {target} ({names}) {accepted} "
                             f"EXCEPT SELECT {names} FROM {target}")
        else:
            if self.con.execute(f"SELECT 1 FROM {target} LIMIT 1").fetchone():
                keys = ", ".join(ident(k) for k in table.key)
                match = " AND ".join(f"{target}.{ident(k)} IS NOT DISTINCT FROM k.{ident(k)}"
                                     for k in table.key)
                self.con.execute(f"DELETE FROM {target} USING (SELECT DISTINCT {keys} FROM {rows} "
                                 f"WHERE {BAD} = 0) k WHERE {match}")
            self.con.execute(f"INSERT INTO {target} ({names}) {accepted}")
        for s in staged:
            self._tick(s.file, 1.0)

    # ---- progress -------------------------------------------------------------------------------
    def _tick(self, file: DataFile, fraction: float) -> None:
        if self.progress is not None:
            self.progress(file.path, fraction)

    @contextlib.contextmanager
    def _watch(self, file: DataFile) -> Iterator[None]:
        """Report DuckDB's progress on a big file's scan from a helper thread."""
        if self.progress is None or file.path.stat().st_size < PROGRESS_MIN_BYTES:
            yield
            return
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.2):
                pct = self.con.query_progress()
                if pct >= 0:
                    self._tick(file, min(pct, 100.0) / 100 * 0.9)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
            self.con.execute("RESET enable_progress_bar")
            self.con.execute("RESET enable_progress_bar_print")


def _require(table: Table, source: Source, lay: Layout) -> None:
    """A file without every required column of its table cannot be loaded at all."""
    missing = [c for c in table.required if c not in lay.canonical]
    if not missing:
        return
    have = [c.name for c in source.columns if not c.name.startswith("__fm_")]
    plural = "s" if len(missing) > 1 else ""
    hint = ""
    if len(have) == 1 and any(ch in have[0] for ch in " :"):
        hint = "; the header was read as one column — separate columns with , ; tab or |"
    raise InputError(f"{source.file.path}: missing required column{plural} "
                     f"{', '.join(missing)} for table {table.name} (the file has: "
                     f"{', '.join(have) or 'no columns'}){hint}")


def _union(staged: Sequence[Staged]) -> str:
    """All stage tables of a table as one relation with file index, ordinal and row number."""
    parts = [f"SELECT *, CAST({i} AS BIGINT) AS {quarantine.FILE}, "
             f"(CAST({i} AS BIGINT) << {FILE_SHIFT}) | (rowid - {s.base}) AS __fm_ord"
             + ("" if s.row_sql == ROW else f", {s.row_sql} AS {ROW}") + f" FROM {s.name}"
             for i, s in enumerate(staged)]
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def _duplicate_flags(con: duckdb.DuckDBPyConnection, table: Table, rows: str,
                     bit: int) -> str | None:
    """Flags for rows sharing a key: all of them if their values differ, else all but the first."""
    keys = ", ".join(ident(k) for k in table.key)
    n, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({keys})) FROM {rows} "
                              f"WHERE {BAD} = 0").fetchone()  # type: ignore[misc]
    if n == distinct:  # distinct hashes: distinct keys (the cheap, common case)
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_dupkeys AS SELECT {keys} FROM {rows} "
                f"WHERE {BAD} = 0 GROUP BY ALL HAVING count(*) > 1")
    if not con.execute("SELECT count(*) FROM __fm_dupkeys").fetchone()[0]:  # type: ignore[index]
        con.execute("DROP TABLE __fm_dupkeys")
        return None
    struct = "struct_pack(" + ", ".join(f"{ident(c)} := s.{ident(c)}"
                                        for c in _row_columns(con, rows)) + ")"
    on = " AND ".join(f"s.{ident(k)} IS NOT DISTINCT FROM d.{ident(k)}" for k in table.key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_dups AS SELECT s.__fm_ord, "
                f"{', '.join(f's.{ident(k)}' for k in table.key)}, "
                f"{struct} AS __fm_content FROM {rows} s SEMI JOIN __fm_dupkeys d ON {on} "
                f"WHERE s.{BAD} = 0")
    con.execute("DROP TABLE __fm_dupkeys")
    on_g = on.replace("s.", "x.").replace("d.", "g.")
    return (f"SELECT x.__fm_ord, CASE WHEN g.n > 1 THEN CAST({bit} AS BIGINT) "
            f"ELSE CAST({COPY_BIT} AS BIGINT) END FROM __fm_dups x JOIN "
            f"(SELECT {keys}, count(DISTINCT __fm_content) AS n, min(__fm_ord) AS first "
            f"FROM __fm_dups GROUP BY ALL) g ON {on_g} WHERE g.n > 1 OR x.__fm_ord <> g.first")


def _row_columns(con: duckdb.DuckDBPyConnection, rows: str) -> list[str]:
    """The data columns of a stage relation (canonical and extra, not internal)."""
    described = con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()
    return [r[0] for r in described if not r[0].startswith("__fm_")]


def _add_extra_columns(con: duckdb.DuckDBPyConnection, table: Table,
                       staged: Sequence[Staged]) -> list[str]:
    """Extra attributes of the files become VARCHAR columns of the table (SPEC §2)."""
    existing = {r[0].lower() for r in con.execute(
        f"SELECT name FROM pragma_table_info({sql_str(table.name)})").fetchall()}
    extras: list[str] = []
    for s in staged:
        for e in s.layout.extras:
            if e.lower() not in {x.lower() for x in extras}:
                extras.append(e)
            if e.lower() not in existing:
                con.execute(f"ALTER TABLE {ident(table.name)} ADD COLUMN {ident(e)} VARCHAR")
                existing.add(e.lower())
    return extras


def _insert_value(table: Table, column: str, present: bool) -> str:
    """The stage column as the table stores it (integers cast back from the stage's doubles)."""
    col = table.column(column)
    if col is None:
        return ident(column) if present else f"NULL AS {ident(column)}"
    if col.kind is Kind.INTEGER:
        return f"CAST({ident(column)} AS BIGINT) AS {ident(column)}"
    if not present:
        return f"CAST(NULL AS {STAGE_TYPE[col.kind]}) AS {ident(column)}"
    return ident(column)
