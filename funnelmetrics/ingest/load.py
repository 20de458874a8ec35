"""Validated, transactional, idempotent loading of data files into a workspace (SPEC §2).

One load is one transaction. Tables are taken in `LOAD_ORDER`, so a stage event may name a lead
accepted earlier in the same load. Per table: every file is staged in one scan (typed values and
row-rule bits), set rules (references, conflicting duplicate keys) flag rows with one join each,
rejected rows go to the quarantine, and accepted rows replace any stored row with the same key.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest import quarantine, set_rules, write
from funnelmetrics.ingest.readers import DataFile, Source, discover, open_source, sql_str
from funnelmetrics.ingest.report import FileReport, LoadReport, RejectedRowsError, TableReport
from funnelmetrics.ingest.rules import DUPLICATE_KEY, Check, row_checks, set_checks
from funnelmetrics.ingest.stage import (
    BAD,
    COPY_BIT,
    FILE_SHIFT,
    PROBLEM_MASK,
    ROW,
    Layout,
    Staged,
    layout,
    stage_sql,
    union,
)
from funnelmetrics.schema import LOAD_ORDER, TABLES, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

Progress = Callable[[Path, float], object]
PROGRESS_MIN_BYTES = 4 << 20
MAX_PROBLEMS = 1000
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


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
    with _session(con):
        _transaction(con, run, files, report, dry_run=dry_run, strict=strict, qdir=qdir)
    if strict and report.rejected:
        where = f"; see {report.quarantine}" if report.quarantine else ""
        raise RejectedRowsError(f"{report.rejected} row(s) rejected, nothing loaded "
                                f"(strict mode){where}", report)
    return report


# Parse in UTC (a date alone is 00:00 UTC, SPEC §2); keep file order (row numbers come from it).
SESSION = {"TimeZone": "'UTC'", "preserve_insertion_order": "true"}
# Stages bigger than this spill to disk, so a load runs in bounded memory whatever the file size.
MEMORY_LIMIT_BYTES = 3 << 30
UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(setting: str) -> float | None:
    """'18.6 GiB' → bytes (None when unreadable)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", setting)
    if not match or match.group(2).lower() not in UNITS:
        return None
    return float(match.group(1)) * UNITS[match.group(2).lower()]


@contextlib.contextmanager
def _session(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The settings a load relies on, whatever the session had; restored afterwards."""
    wanted = dict(SESSION)
    limit = _bytes(str(_setting(con, "memory_limit")))
    if limit is None or limit > MEMORY_LIMIT_BYTES:
        wanted["memory_limit"] = f"'{MEMORY_LIMIT_BYTES >> 20}MiB'"
    before = {key: _setting(con, key) for key in wanted}
    for key, value in wanted.items():
        con.execute(f"SET {key} = {value}")
    try:
        yield
    finally:
        for key, value in before.items():
            if key == "memory_limit" and value == _default_memory_limit():
                con.execute("RESET memory_limit")  # exact, unlike re-setting its rounded text
            else:
                con.execute(f"SET {key} = {sql_str(value) if isinstance(value, str) else value}")


def _default_memory_limit() -> object:
    with duckdb.connect() as fresh:
        return _setting(fresh, "memory_limit")


def _setting(con: duckdb.DuckDBPyConnection, key: str) -> object:
    return con.execute(f"SELECT current_setting({sql_str(key)})").fetchone()[0]  # type: ignore[index]


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

    def table(self, table: Table, files: list[DataFile]) -> None:
        """Stage, check, quarantine and write every file of one table."""
        checks = row_checks(table, self.stages)
        later = set_checks(table)
        staged: list[Staged] = []
        try:
            for f in files:
                staged.append(self.stage(table, f, checks))
            rows = union(staged)
            self.flag(table, staged, rows, len(checks), later)
            self.collect(table, staged, rows, checks + later)
            if not self.report.dry_run:
                write.insert(self.con, table, staged, rows)
            for f in files:
                self._tick(f, 1.0)
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
        """Run the set rules (references first, then duplicates) and OR in their bits."""
        for i, check in enumerate(later):
            bit = 1 << (first_bit + i)
            if check.code == DUPLICATE_KEY:
                self._apply(staged, set_rules.duplicate_keys(self.con, table.key, rows, bit))
            else:
                ref = next(r for r in table.references if r.column == check.column)
                self._apply(staged, set_rules.unknown_references(ref, rows, bit))
        if not table.key:  # keyless: a row is its own key, so only exact copies are found
            every = set_rules.data_columns(self.con, rows)
            self._apply(staged, set_rules.duplicate_keys(self.con, every, rows, COPY_BIT))

    def _apply(self, staged: list[Staged], flags_sql: str | None) -> None:
        """OR flag bits (rows `SELECT ord, bit`) into the stage tables."""
        if flags_sql is None:
            return
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_flags AS "
                             f"SELECT ord, bit_or(bit) AS bits FROM ({flags_sql}) f(ord, bit) "
                             f"GROUP BY ord")
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
            self.con.execute("DROP TABLE IF EXISTS __fm_dups")

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
        if rejected:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_rejected AS SELECT * "
                             f"FROM {rows} WHERE ({BAD} & {PROBLEM_MASK}) <> 0")
            try:
                quarantine.collect(self.con, table, "__fm_rejected", checks,
                                   [s.key for s in staged])
            finally:
                self.con.execute("DROP TABLE IF EXISTS __fm_rejected")

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
                    try:
                        self._tick(file, min(pct, 100.0) / 100 * 0.9)
                    except Exception:  # a failing display must not break the load
                        return

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


