"""Phase one of a load: every file scanned once into its stage table, before the transaction.

Stages are ordinary tables of the database (compressed, parallel to scan, cheap to turn into the
canonical table, see `write.adopt`), created and committed before the load's transaction begins
and dropped when it ends; a dry run stages into temporary tables instead, so it writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest import dates
from funnelmetrics.ingest.encoding import FALLBACK
from funnelmetrics.ingest.mapping import wrap
from funnelmetrics.ingest.options import ReadOptions
from funnelmetrics.ingest.readers import DataFile, Source, open_source
from funnelmetrics.ingest.rules import UNDETERMINED_ORDER, Check
from funnelmetrics.ingest.stage import BAD, ROW, Layout, Reading, Staged, layout, stage_sql
from funnelmetrics.schema import Kind, Table

Progress = Callable[[Path, float], object]
PROGRESS_MIN_BYTES = 4 << 20
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)
PREFIX = "__fm_stage_"


class Stager:
    """Creates (and finally drops) the stage tables of one load."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stages: list[str],
                 progress: Progress | None, *, temporary: bool,
                 options: ReadOptions | None = None) -> None:
        self.con = con
        self.stages = stages
        self.progress = progress
        self.temporary = temporary
        self.options = options or ReadOptions()
        self.created: list[str] = []

    def stage(self, table: Table, file: DataFile, checks: list[Check]) -> Staged:
        """Read one file into its stage table (one scan), or raise a one-line InputError.

        A text file that turns out not to be UTF-8 is read again as Windows-1252 (unless its
        encoding was given); a file with slash dates of unknown order is staged again once
        their order is inferred (or refused, see `dates`).
        """
        name = f"{PREFIX}{os.getpid()}_{len(self.created) + 1}"
        self.tick(file, 0.0)
        try:
            source = self._stage(name, table, file, checks, self.options.encoding)
        except InputError as exc:
            if self.options.encoding or "not UTF-8" not in str(exc):
                raise
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            source = self._stage(name, table, file, checks, FALLBACK)
        first = self.con.execute(f"SELECT min(rowid) FROM {name}").fetchone()
        base = first[0] if first and first[0] is not None else 0
        row_sql = ROW if source.row_expr else f"rowid - {base} + {source.row_offset}"
        return Staged(file, name, layout(table, source), row_sql, base,
                      temporary=self.temporary, skipped=source.skipped,
                      skip_reason=source.skip_reason)

    def _stage(self, name: str, table: Table, file: DataFile, checks: list[Check],
               codec: str | None) -> Source:
        """Create the stage table `name` (twice when slash dates need their order inferred)."""
        source = open_source(self.con, file, name.removeprefix(PREFIX), codec)
        if file.view is not None:
            try:
                source = wrap(self.con, source, file.view)
            except READ_ERRORS as exc:
                source.close()
                raise source.error(exc) from None
        options = file.view.read_options(self.options) if file.view else self.options
        try:
            lay = layout(table, source)
            require_columns(table, source, lay)
            stamps = [c.name for c in table.columns if c.kind is Kind.TIMESTAMP]
            reading = Reading(options, dict.fromkeys(stamps, options.date_format),
                              text_numbers=file.format == "csv")
            self._create(name, table, source, checks, reading)
            unknown = self._undetermined(name, checks)
            if unknown:
                orders = self._infer(source, lay.canonical, unknown)
                self.con.execute(f"DROP TABLE {name}")
                self._create(name, table, source, checks,
                             Reading(options, reading.orders | orders, reading.text_numbers))
        except READ_ERRORS as exc:
            raise source.error(exc) from None
        finally:
            source.close()
        return source

    def _create(self, name: str, table: Table, source: Source, checks: list[Check],
                reading: Reading) -> None:
        sql = stage_sql(name, table, source, checks, self.stages, reading)
        if not self.temporary:
            sql = sql.replace("CREATE TEMP TABLE", "CREATE TABLE", 1)
        if name not in self.created:
            self.created.append(name)
        with self._watch(source.file):
            self.con.execute(sql)

    def _undetermined(self, name: str, checks: list[Check]) -> list[str]:
        """Columns with slash dates whose order is not known (from the stage's rule bits)."""
        bits = {i: c.column for i, c in enumerate(checks) if c.code == UNDETERMINED_ORDER}
        if not bits:
            return []
        row = self.con.execute(f"SELECT bit_or({BAD}) FROM {name}").fetchone()
        found = row[0] if row and row[0] is not None else 0
        return [column for i, column in bits.items() if found & (1 << i)]

    def _infer(self, source: Source, canonical: dict[str, str],
               columns: list[str]) -> dict[str, str | None]:
        """The day/month order of each column, from its values (or an InputError)."""
        by_name = {c.name: c for c in source.columns}
        found = dates.infer_orders(self.con, source.relation,
                                   [by_name[canonical[c]] for c in columns])
        return {c: e.order(source.file.path) for c, e in zip(columns, found, strict=True)}

    def drop_all(self) -> None:
        """Drop every stage table this load made (an adopted one no longer exists)."""
        for name in self.created:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.created.clear()

    # ---- progress -------------------------------------------------------------------------------
    def tick(self, file: DataFile, fraction: float) -> None:
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
                        self.tick(file, min(pct, 100.0) / 100 * 0.9)
                    except Exception:  # a failing display must not break the load
                        return

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
            self.con.execute("SET enable_progress_bar = false")  # as the workspace opened it
            self.con.execute("RESET enable_progress_bar_print")


def drop_leftovers(con: duckdb.DuckDBPyConnection) -> None:
    """What a load (or an upload) that crashed left behind: its stage tables (no other load
    can be running: a load holds the workspace for writing) and upload folders of processes
    that no longer run."""
    names = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND "
                        f"schema_name = 'main' AND starts_with(table_name, '{PREFIX}')").fetchall()
    for (name,) in names:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
    remove_dead_uploads()


UPLOAD_PREFIX = "funnelmetrics-upload-"  # + the server's PID + "-": an upload's temp folder


def upload_folder_prefix() -> str:
    """The prefix of this process's upload folders (`tempfile.TemporaryDirectory(prefix=…)`)."""
    return f"{UPLOAD_PREFIX}{os.getpid()}-"


def remove_dead_uploads(directory: Path | None = None) -> list[Path]:
    """Remove the upload folders (in the temp directory) of servers that no longer run."""
    import shutil
    import tempfile

    removed = []
    for path in Path(directory or tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        pid = path.name.removeprefix(UPLOAD_PREFIX).split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or not ours to judge): keep its folder
    return True


def require_columns(table: Table, source: Source, lay: Layout) -> None:
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
