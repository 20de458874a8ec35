"""Validated, transactional, idempotent loading of data files into a workspace (SPEC §2).

Phase one stages every file in one scan (typed values and row-rule bits, see `staging`); a file
that cannot be read stops the load before anything is written. Phase two is one transaction:
tables are taken in `LOAD_ORDER` (so a stage event may name a lead accepted earlier in the same
load), set rules (references, conflicting duplicate keys) flag rows with one join each, rejected
rows go to the quarantine, and accepted rows replace any stored row with the same key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from funnelmetrics.config import CrmSettings
from funnelmetrics.ingest import presets, quarantine, set_rules, snapshot, write
from funnelmetrics.ingest.mapping import read_mapping
from funnelmetrics.ingest.options import ReadOptions, read_options
from funnelmetrics.ingest.readers import DataFile, discover, ident, sql_str
from funnelmetrics.ingest.report import FileReport, LoadReport, RejectedRowsError, TableReport
from funnelmetrics.ingest.rules import DUPLICATE_KEY, Check, row_checks, set_checks
from funnelmetrics.ingest.stage import (
    BAD,
    COPY_BIT,
    FILE,
    PROBLEM_MASK,
    Staged,
    union,
    with_flags,
)
from funnelmetrics.ingest.staging import Progress, Stager, drop_leftovers
from funnelmetrics.schema import LOAD_ORDER, TABLES, Table

if TYPE_CHECKING:
    from funnelmetrics.connection import Connection as Workspace

Plan = list[tuple[Table, list[Staged]]]
Prepare = Callable[[duckdb.DuckDBPyConnection, Plan], object]
MAX_PROBLEMS = 1000
PREVIEW_ROWS = 5
FLAGS = "__fm_flags"


def load(ws: Workspace, paths: list[Path], *, table: str | None = None, dry_run: bool = False,
         strict: bool = False, progress: Progress | None = None,
         quarantine_dir: Path | None = None, date_format: str | None = None,
         decimal: str | None = None, encoding: str | None = None,
         names: Mapping[str | Path, str] | None = None, preset: str | None = None,
         mapping: str | Path | None = None, replace_missing: bool = False,
         replace_rows: bool = False, prepare: Prepare | None = None) -> LoadReport:
    """Validate and load files; rejected rows go to the quarantine. See SPEC §2 "Bad input".

    `dry_run` validates and reports without writing anything; `strict` writes nothing when any
    row is rejected and raises `RejectedRowsError` (an InputError carrying the report).
    `progress(file, fraction)` is called as files are read (from a helper thread for big files).
    `date_format` (`DD/MM/YYYY`, `MM/DD/YYYY`, …) is the order of slash dates (default: inferred
    per column, refused when the values cannot tell), `decimal` the decimal mark of CSV numbers
    (`,` or `.`, with thousands separators), `encoding` the text files' codec (default: UTF-8,
    else Windows-1252). Years outside `[ingest]` min_year–max_year are rejected.
    `names` maps a path to the name the quarantine records for it (an upload's own file name
    rather than its temporary path).
    `preset` (a name of `funnelmetrics.ingest.presets.PRESETS`) or `mapping` (a mapping TOML
    file) reads CRM exports into the canonical tables; without either, a CSV file that is not
    a canonical one is recognised by its header when a preset knows it. `replace_missing`:
    each table loaded is a full snapshot, so its stored rows whose key is not in the files are
    removed (with the events of removed opportunities and leads), counted in the report.
    A file without some of a table's columns updates only the columns it has (a stored row
    keeps the others); `replace_rows` replaces whole rows instead.

    Each load keeps its own quarantine: its lines are added to `_quarantine` (stamped with the
    load's `loaded_at`) and its files are `<stem>.<load id>.quarantine.csv`, so a later load of
    a file with the same name never overwrites them.

    `prepare(con, plan)` is called once every file is staged, before any set rule runs: `plan`
    is each table's `(Table, [Staged, …])`. A load on another engine fills the workspace's
    tables there with the stored rows the load is checked against (`ingest.on_engine`).
    """
    con = ws.duckdb
    settings = ws.config.ingest
    options = read_options(date_format=date_format, decimal=decimal, encoding=encoding,
                           min_year=settings.min_year, max_year=settings.max_year,
                           placeholder_end_dates=settings.placeholder_end_dates)
    views = presets.finder(preset=preset, crm=_crm(ws),
                           mapping=read_mapping(Path(mapping)) if mapping else None,
                           encoding=options.encoding)
    files = sorted(_labelled(discover([Path(p) for p in paths], table, views), names),
                   key=lambda f: LOAD_ORDER.index(f.table))
    report = LoadReport(dry_run=dry_run)
    stages = list(ws.config.stages)
    with _session(con):
        stager = Stager(con, stages, progress, temporary=dry_run, options=options)
        if not dry_run:
            drop_leftovers(con)
        try:
            plan = [(TABLES[name], _stage_table(stager, TABLES[name], list(group), stages,
                                                options))
                    for name, group in groupby(files, key=lambda f: f.table)]
            if prepare is not None:
                prepare(con, plan)
            run = _Run(con, stages, report, stager, options, replace_missing=replace_missing,
                       replace_rows=replace_rows)
            qdir = quarantine_dir or (ws.directory / "quarantine" if ws.directory else None)
            run.transaction(plan, files, strict=strict, qdir=qdir)
        finally:
            stager.drop_all()
    if strict and report.rejected:
        where = f"; see {report.quarantine}" if report.quarantine else ""
        raise RejectedRowsError(f"{report.rejected} row(s) rejected, nothing loaded "
                                f"(strict mode){where}", report)
    return report


def _crm(ws: Workspace) -> CrmSettings:
    """The workspace's CRM facts; offset-less CRM timestamps default to its time zone."""
    crm = ws.config.crm
    if crm.timezone is None and ws.config.timezone != "UTC":
        return crm.model_copy(update={"timezone": ws.config.timezone})
    return crm


def _labelled(files: list[DataFile], names: Mapping[str | Path, str] | None) -> list[DataFile]:
    """Files with the names the caller gave them (by path as given or absolute)."""
    if not names:
        return files
    given = {Path(p).resolve(): name for p, name in names.items()}
    return [dataclasses.replace(f, label=given.get(f.path.resolve())) for f in files]


def _stage_table(stager: Stager, table: Table, files: list[DataFile],
                 stages: list[str], options: ReadOptions) -> list[Staged]:
    checks = row_checks(table, stages, options)
    return [stager.stage(table, f, checks) for f in files]


class _Run:
    """Phase two: the transaction that checks, quarantines and writes the staged tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stages: list[str], report: LoadReport,
                 stager: Stager, options: ReadOptions, *, replace_missing: bool = False,
                 replace_rows: bool = False) -> None:
        self.replace_missing = replace_missing
        self.replace_rows = replace_rows
        self.con = con
        self.stages = stages
        self.options = options
        self.report = report
        self.stager = stager
        self.loaded_at = datetime.now(UTC).replace(tzinfo=None)

    def transaction(self, plan: list[tuple[Table, list[Staged]]], files: list[DataFile], *,
                    strict: bool, qdir: Path | None) -> None:
        """Everything a load writes, in one transaction (rolled back for dry runs, failures
        and, under `strict`, rejected rows)."""
        con, report = self.con, self.report
        con.execute("BEGIN TRANSACTION")
        try:
            quarantine.create_problems(con)
            for table, staged in plan:
                self.table(table, staged)
            report.problems, report.problems_truncated = quarantine.problems(con, MAX_PROBLEMS)
            if not report.dry_run:
                quarantine.store(con, self.loaded_at)
                _write_quarantine_files(con, report, qdir, files, load_id(self.loaded_at))
            con.execute(f"DROP TABLE IF EXISTS {quarantine.PROBLEMS}")
            con.execute("ROLLBACK" if report.dry_run or (strict and report.rejected)
                        else "COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise

    def table(self, table: Table, staged: list[Staged]) -> None:
        """Set rules, counts, quarantine lines and the write of one table's stages."""
        checks = row_checks(table, self.stages, self.options)
        later = set_checks(table)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {FLAGS} (ord BIGINT, bit BIGINT)")
        try:
            rows = self.flag(table, union(staged), len(checks), later)
            self.collect(table, staged, rows, checks + later)
            if self.report.dry_run:
                self.preview(table, staged)
            if self.replace_missing:  # before the write: an adopted stage is gone after it
                self.report.tables[table.name].removed = snapshot.remove_missing(
                    self.con, table, rows, self.report.removed)
            write.store(self.con, table, staged, rows, replace_rows=self.replace_rows)
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {FLAGS}")
            self.con.execute("DROP TABLE IF EXISTS __fm_dups")
        for s in staged:
            self.stager.tick(s.file, 1.0)

    def flag(self, table: Table, rows: str, first_bit: int, later: list[Check]) -> str:
        """Run the set rules (references, then duplicates among the rows still accepted);
        returns the relation of the rows with every rule's bits."""
        current = rows
        for i, check in enumerate(later):
            bit = 1 << (first_bit + i)
            if check.code == DUPLICATE_KEY:
                found = set_rules.duplicate_keys(self.con, table.key, current, bit)
            else:
                ref = next(r for r in table.references if r.column == check.column)
                found = set_rules.unknown_references(ref, current, bit)
            if self._add(found):
                current = with_flags(rows, FLAGS)
        if not table.key:  # keyless: a row is its own key, so only exact copies are found
            every = set_rules.data_columns(self.con, rows)
            found = set_rules.duplicate_keys(self.con, every, current, COPY_BIT,
                                             hash_key=table.names)
            if self._add(found):
                current = with_flags(rows, FLAGS)
        return current

    def _add(self, flags_sql: str | None) -> bool:
        """Record flagged rows (`SELECT ord, bit`); True when there were any."""
        if flags_sql is None:
            return False
        added = self.con.execute(f"INSERT INTO {FLAGS} {flags_sql}").fetchone()
        return bool(added and added[0])

    def preview(self, table: Table, staged: list[Staged]) -> None:
        """The first canonical rows of each file (a dry run shows what a load would store)."""
        cols = ", ".join(ident(c) for c in table.names)
        files = [f for f in self.report.files if f.table == table.name]
        for s, fr in zip(staged, files[-len(staged):], strict=True):
            cur = self.con.execute(f"SELECT {cols} FROM {s.name} WHERE {BAD} = 0 "
                                   f"ORDER BY rowid LIMIT {PREVIEW_ROWS}")
            fr.preview = [dict(zip(table.names, r, strict=True)) for r in cur.fetchall()]

    def collect(self, table: Table, staged: list[Staged], rows: str,
                checks: list[Check]) -> None:
        """Count rows per file and record the problem lines of rejected rows."""
        counts = dict.fromkeys(range(len(staged)), (0, 0))
        for i, n, bad in self.con.execute(
                f"SELECT {FILE}, count(*), count(*) FILTER (WHERE ({BAD} & {PROBLEM_MASK}) "
                f"<> 0) FROM {rows} GROUP BY {FILE}").fetchall():
            counts[i] = (n, bad)
        for i, s in enumerate(staged):
            n, bad = counts[i]
            fr = FileReport(rows=n, accepted=n - bad, rejected=bad, path=s.file.path,
                            table=table.name, skipped=s.skipped, skip_reason=s.skip_reason,
                            via=s.file.view.via if s.file.view else None)
            self.report.files.append(fr)
            self.report.tables.setdefault(table.name, TableReport()).add(fr)
        if not any(bad for _, bad in counts.values()):
            return
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_rejected AS SELECT * FROM {rows} "
                         f"WHERE ({BAD} & {PROBLEM_MASK}) <> 0")
        try:
            quarantine.collect(self.con, table, "__fm_rejected", checks, [s.key for s in staged])
        finally:
            self.con.execute("DROP TABLE IF EXISTS __fm_rejected")


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


def _setting(con: duckdb.DuckDBPyConnection, key: str) -> object:
    return con.execute(f"SELECT current_setting({sql_str(key)})").fetchone()[0]  # type: ignore[index]


def _default_memory_limit() -> object:
    with duckdb.connect() as fresh:
        return _setting(fresh, "memory_limit")


def load_id(loaded_at: datetime) -> str:
    """The load's id in quarantine file names: its UTC start, `20260105T101500123456`."""
    return loaded_at.strftime("%Y%m%dT%H%M%S%f")


def _write_quarantine_files(con: duckdb.DuckDBPyConnection, report: LoadReport,
                            qdir: Path | None, files: list[DataFile], load: str) -> None:
    """One `<stem>.<load>.quarantine.csv` per file with rejected rows (earlier loads' files
    are kept); the report points at them."""
    if qdir is None:
        return
    keys = {f.path: f.key for f in files}
    written = []
    for f in report.files:
        path = qdir / f"{_stem(Path(keys[f.path]).name)}.{load}.quarantine.csv"
        if path in written:  # one file read into two tables (a preset): one quarantine file
            f.quarantine = path if f.rejected else None
        elif quarantine.write_csv(con, keys[f.path], path):
            f.quarantine = path
            written.append(path)
    report.quarantine = written[0] if len(written) == 1 else (qdir if written else None)


def _stem(name: str) -> str:
    """`leads.csv.gz` → `leads`, `leads.2026-01.csv` → `leads.2026-01`."""
    name = name[:-3] if name.lower().endswith(".gz") else name
    return name.rsplit(".", 1)[0]
