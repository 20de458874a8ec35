"""`init`, `ingest` and `check`: create a workspace and load data files into it (SPEC §2, §5)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from funnelmetrics.cli.app import (
    DEFAULT_DB,
    WAIT_SECONDS,
    DbOption,
    FormatOption,
    OutputFormat,
    WaitOption,
    app,
    console,
    err_console,
    fail,
    handle_errors,
    open_workspace,
)
from funnelmetrics.cli.render import print_json_line

if TYPE_CHECKING:
    from funnelmetrics.ingest import LoadReport

PathsArgument = Annotated[list[Path], typer.Argument(
    help="Data files or directories (files are named after their table: leads.csv, …).")]
TableOption = Annotated[str | None, typer.Option(
    "--table", help="Load every file into this table instead of the one its name says.")]
StrictOption = Annotated[bool, typer.Option(
    "--strict", help="Load nothing and exit 1 when any row is rejected.")]
QuarantineOption = Annotated[Path | None, typer.Option(
    "--quarantine", help="Directory for the quarantine CSV files (default: <workspace>/quarantine).")]
DateFormatOption = Annotated[str | None, typer.Option(
    "--date-format", help="Order of slash dates: DD/MM/YYYY, MM/DD/YYYY or YYYY/MM/DD "
    "(default: inferred per column; an ambiguous column is refused).")]
DecimalOption = Annotated[str | None, typer.Option(
    "--decimal", help="Decimal mark of CSV numbers: , (1.234.567,00) or . (1,234,567.00).")]
EncodingOption = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of CSV/JSON files (default: UTF-8, else Windows-1252).")]
PresetOption = Annotated[str | None, typer.Option(
    "--preset", help="Read CRM exports with a preset (see `funnelmetrics presets`); default: "
    "a known export is recognised by its header.")]
MapOption = Annotated[Path | None, typer.Option(
    "--map", help="Read the files with a mapping file (TOML: table, columns, values, "
    "date_format, decimal, timezone, currency).")]
ReplaceMissingOption = Annotated[bool, typer.Option(
    "--replace-missing", help="The files are full snapshots: stored rows missing from them "
    "are removed (deleted in the CRM).")]
ReplaceRowsOption = Annotated[bool, typer.Option(
    "--replace-rows", help="A file replaces whole rows: a column it lacks becomes empty "
    "(default: a file updates only the columns it has; stored rows keep the others).")]
PrepareOption = Annotated[bool | None, typer.Option(
    "--prepare/--no-prepare", help="Compute the dashboard's overview for the new data and keep "
    "it, so that the next `serve` answers it at once (default: when a server has served this "
    "workspace before).")]
PROGRESS_MIN_BYTES = 4 << 20
SHOWN_PROBLEMS = 20


@app.command("init")
@handle_errors
def init_cmd(db: DbOption = DEFAULT_DB) -> None:
    """Create a workspace: the canonical tables and a funnelmetrics.toml beside the database."""
    existed = db.exists()
    with open_workspace(db, must_exist=False) as ws:
        created = ws.init()
        where = ws.directory / "funnelmetrics.toml" if ws.directory else None
    if existed and not created:
        console.print(f"Workspace [bold]{db}[/] is already set up.")
        return
    console.print(f"[green]Workspace ready[/] at [bold]{db}[/]"
                  + (f" (settings: {where})" if where else "")
                  + f". Next: [bold]funnelmetrics ingest DIR --db {db}[/]")


@app.command("ingest")
@handle_errors
def ingest_cmd(paths: PathsArgument, db: DbOption = DEFAULT_DB, table: TableOption = None,
               strict: StrictOption = False, quarantine: QuarantineOption = None,
               date_format: DateFormatOption = None, decimal: DecimalOption = None,
               encoding: EncodingOption = None, preset: PresetOption = None,
               mapping: MapOption = None, replace_missing: ReplaceMissingOption = False,
               fmt: FormatOption = OutputFormat.table, wait: WaitOption = WAIT_SECONDS,
               replace_rows: ReplaceRowsOption = False, prepare: PrepareOption = None) -> None:
    """Validate and load data files; rejected rows go to the quarantine (exit 0 unless --strict)."""
    new = "://" not in str(db) and not db.exists()
    before = file_version(db)
    with open_workspace(db, must_exist=False, wait=wait) as ws:
        if new:
            ws.init()  # a new workspace gets its funnelmetrics.toml too
        _run(ws, paths, fmt, dry_run=False, table=table, strict=strict,
             quarantine_dir=quarantine, date_format=date_format, decimal=decimal,
             encoding=encoding, preset=preset, mapping=mapping,
             replace_missing=replace_missing, replace_rows=replace_rows)
    if prepare or file_version(db) != before:  # asked, or the data changed
        prepare_dashboard(db, prepare, fmt)


def file_version(db: str) -> tuple[int, ...] | None:
    """What a server's `Source.version` reads of the workspace file; None for an engine's
    URL."""
    if "://" in str(db):
        return None
    from funnelmetrics.compile.sqlcache import data_version

    return data_version(db)


def prepare_dashboard(db: str, wanted: bool | None, fmt: OutputFormat) -> None:
    """After a load: the dashboard's overview computed and kept for the next server
    (`web.prepare`) — when asked, or (`wanted` None) when the workspace was served before. A
    failure here is a line on stderr: the load itself is done."""
    if wanted is False:
        return
    if "://" in str(db):
        if wanted:
            err_console.print("--prepare keeps the dashboard's results for a DuckDB file; an "
                              "engine's workspace is computed by the server when asked.")
        return
    from funnelmetrics.web import prepare as web_prepare

    if wanted is None and not web_prepare.served_before(str(db)):
        return
    started = time.perf_counter()
    try:
        with err_console.status("Preparing the dashboard's overview for the new data…"):
            kept = web_prepare.prepare(str(db))
    except Exception as exc:  # noqa: BLE001 - the data is loaded; this only saves time later
        err_console.print(f"[yellow]The dashboard's overview was not prepared: {exc}[/]")
        return
    if kept and fmt is OutputFormat.table:
        console.print(f"Dashboard overview prepared ({time.perf_counter() - started:.1f} s): "
                      "the next `serve` answers it at once.")


@app.command("check")
@handle_errors
def check_cmd(paths: PathsArgument, db: DbOption = DEFAULT_DB, table: TableOption = None,
              strict: StrictOption = False, date_format: DateFormatOption = None,
              decimal: DecimalOption = None, encoding: EncodingOption = None,
              preset: PresetOption = None, mapping: MapOption = None,
              fmt: FormatOption = OutputFormat.table, wait: WaitOption = WAIT_SECONDS) -> None:
    """Validate data files exactly as `ingest` would, without writing anything; shows the
    preset or mapping each file is read with and its first canonical rows."""
    with _workspace_for_check(db, wait) as ws:
        _run(ws, paths, fmt, dry_run=True, table=table, strict=strict,
             date_format=date_format, decimal=decimal, encoding=encoding, preset=preset,
             mapping=mapping)


@app.command("presets")
@handle_errors
def presets_cmd(show: Annotated[str | None, typer.Option(
        "--show", help="Print a preset's mapping file (copy it, edit it, load with --map).")]
        = None) -> None:
    """List the CRM export presets (ingest --preset NAME), or print one's mapping file."""
    from funnelmetrics.ingest.presets import PRESETS, get

    if show:
        print(get(show).path.read_text(encoding="utf-8"), end="", flush=True)
        return
    for p in PRESETS.values():
        console.print(f"[bold]{p.name}[/] → {', '.join(p.tables)}: {p.description}",
                      soft_wrap=True, highlight=False)
    console.print("Mapping files: funnelmetrics presets --show NAME (copy, edit, then "
                  "ingest --map FILE).", soft_wrap=True, highlight=False)


def _workspace_for_check(db: Path, wait: float) -> Any:
    """The workspace at `db`; when there is none, an empty in-memory one (nothing is created)."""
    if "://" in str(db) or db.exists():
        return open_workspace(db, wait=wait)
    import funnelmetrics
    from funnelmetrics.config import load_config

    return funnelmetrics.open(":memory:", config=load_config(Path(db).resolve().parent))


def _run(ws: Any, paths: list[Path], fmt: OutputFormat, *, dry_run: bool, **options: Any) -> None:
    """Load (or check), render the report, and exit 1 on rejected rows under --strict."""
    from funnelmetrics.ingest import RejectedRowsError

    with _ProgressBars(enabled=fmt is OutputFormat.table) as bars:
        try:
            report = ws.ingest(paths, dry_run=dry_run, progress=bars.update, **options)
        except RejectedRowsError as exc:
            _render(exc.report, fmt)
            fail(str(exc))
            return
    _render(report, fmt)


# ---- rendering ----------------------------------------------------------------------------------
def _render(report: LoadReport, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json_line(report.to_json())
    elif fmt is OutputFormat.csv:
        print(_csv(report), end="", flush=True)
    else:
        _rich(report)


def _csv(report: LoadReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    crm = any(f.via for f in report.files)  # CRM exports: what was skipped, how each was read
    writer.writerow(["file", "table", "rows", "accepted", "rejected", "quarantine"]
                    + (["skipped", "read_with"] if crm else []))
    for f in report.files:
        writer.writerow([f.path, f.table, f.rows, f.accepted, f.rejected, f.quarantine or ""]
                        + ([f.skipped, f.via or ""] if crm else []))
    return buf.getvalue()


def _rich(report: LoadReport) -> None:
    verb = "Checked" if report.dry_run else "Loaded"
    table = Table(title=f"{verb} {len(report.files)} file(s)", title_justify="left",
                  header_style="bold cyan")
    for name, justify in (("file", "left"), ("table", "left"), ("rows", "right"),
                          ("accepted", "right"), ("rejected", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    vias = any(f.via for f in report.files)
    if vias:
        table.add_column("read with")
    for f in report.files:
        rejected = f"[red]{f.rejected:,}[/]" if f.rejected else "0"
        table.add_row(str(f.path), f.table, f"{f.rows:,}", f"{f.accepted:,}", rejected,
                      *([f.via or "canonical columns"] if vias else []))
    console.print(table)
    for f in report.files:
        if f.skipped:
            console.print(f"{f.path.name}: {f.skipped:,} row(s) skipped for {f.table} "
                          f"({f.skip_reason}).", soft_wrap=True)
    for name, n in report.removed.items():
        if n:
            console.print(f"{n:,} stored {name} row(s) not in the new export removed "
                          "(--replace-missing).")
    if report.dry_run:
        _previews(report)
    if not report.rejected:
        console.print("[green]Every row passed.[/]" if report.dry_run else
                      "[green]Every row was accepted.[/]")
        return
    if report.dry_run:
        console.print(f"[yellow]{report.rejected:,} row(s) would be rejected[/] "
                      "(nothing was written):")
    else:
        where = f" — see [bold]{report.quarantine}[/] and" if report.quarantine else " — see"
        console.print(f"[yellow]{report.rejected:,} row(s) rejected[/]{where} "
                      "the _quarantine table.", soft_wrap=True)
    _problems(report)


def _previews(report: LoadReport) -> None:
    """The first canonical rows each file would store (`check`)."""
    for f in report.files:
        if not f.preview:
            continue
        console.print(f"[bold]{f.path.name} → {f.table}[/] ({f.via or 'canonical columns'}), "
                      "first rows:", soft_wrap=True, highlight=False)
        for r in f.preview:  # one line per row, never truncated (tables can be wide)
            console.print("  " + " · ".join(f"{k}={v}" for k, v in r.items() if v is not None),
                          soft_wrap=True, highlight=False, markup=False)


def _problems(report: LoadReport) -> None:
    table = Table(header_style="bold", title_justify="left")
    for name in ("file", "row", "column", "reason", "value"):
        table.add_column(name, justify="right" if name == "row" else "left")
    for p in report.problems[:SHOWN_PROBLEMS]:
        table.add_row(Path(p.file).name, str(p.row), p.column, p.reason,
                      "" if p.value is None else p.value)
    console.print(table)
    more = len(report.problems) - SHOWN_PROBLEMS
    if more > 0 or report.problems_truncated:
        console.print(f"… and more problem lines (first {SHOWN_PROBLEMS} shown).")


class _ProgressBars:
    """A Rich progress bar per file bigger than a few MB (on stderr, only on a terminal)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and err_console.is_terminal
        self.progress: Progress | None = None
        self.tasks: dict[Path, TaskID] = {}

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, file: Path, fraction: float) -> None:
        if not self.enabled:
            return
        if file not in self.tasks:
            if not file.exists() or file.stat().st_size < PROGRESS_MIN_BYTES:
                return
            if self.progress is None:
                self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                         TextColumn("{task.percentage:>3.0f}%"),
                                         TimeElapsedColumn(), console=err_console,
                                         transient=True)
                self.progress.start()
            self.tasks[file] = self.progress.add_task(file.name, total=1.0)
        if self.progress is not None:
            self.progress.update(self.tasks[file], completed=fraction)
