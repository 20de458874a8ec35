"""The Typer application, shared options and the one-line error handling of every command."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from funnelmetrics import __version__
from funnelmetrics.errors import FunnelmetricsError

# `--help` lists the commands in the order a new user needs them, in panels; a command not
# named here (a new group) is listed after these, under "More".
COMMAND_PANELS: dict[str, tuple[str, ...]] = {
    "Get started": ("demo", "init", "ingest", "check", "presets"),
    "Ask": ("metrics", "metric", "funnel", "summary", "kpis", "leaderboard", "mrr",
            "attribution", "glossary"),
    "Understand": ("insights", "explain-change", "pipeline-change", "benchmarks", "alerts"),
    "Plan": ("forecast", "ltv"),
    "Share": ("report", "serve", "user"),
}
_RANK = {name: i for i, name in enumerate(n for names in COMMAND_PANELS.values() for n in names)}
_PANEL = {name: panel for panel, names in COMMAND_PANELS.items() for name in names}


class OrderedGroup(TyperGroup):
    """Commands listed by `COMMAND_PANELS` (Typer lists them in the order modules register)."""

    def list_commands(self, ctx: Any) -> list[str]:
        for name, command in self.commands.items():
            if not isinstance(getattr(command, "rich_help_panel", None), str):  # unset
                command.rich_help_panel = _PANEL.get(name, "More")  # type: ignore[attr-defined]
        return sorted(self.commands, key=lambda name: (_RANK.get(name, len(_RANK)), name))


app = typer.Typer(
    name="funnelmetrics",
    help="Sales- and marketing-funnel metrics from CRM, marketing and billing data.",
    cls=OrderedGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class DbTarget(str):
    """What `--db` names, as typed: a DuckDB file or an engine's URL (`pyspark:///DIR?…`,
    `postgres://…`; a Path would collapse their `//`)."""

    __slots__ = ()

    @property
    def is_url(self) -> bool:
        return "://" in self

    def exists(self) -> bool:
        """A URL's workspace is the engine's to find; a file exists or not."""
        return self.is_url or Path(self).exists()


DbOption = Annotated[DbTarget, typer.Option(
    "--db", envvar="FUNNELMETRICS_DB", parser=DbTarget,
    help="Workspace: a DuckDB file, pyspark:///WAREHOUSE_DIR?spark.master=local[2] or "
         "postgres://user:pass@host:port/db.")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="See the workspace as it stood at this date/instant.")]
DEFAULT_DB = DbTarget("funnel.duckdb")

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """A user's mistake becomes a one-line message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FunnelmetricsError as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        except FileNotFoundError as exc:
            fail(f"{exc.filename or exc}: no such file")
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:  # an engine's own error (a damaged file, a server gone away)
            if not type(exc).__module__.startswith(ENGINE_MODULES):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            fail(f"the database refused it ({type(exc).__name__}{': ' + first if first else ''})")
        return None

    return wrapper  # type: ignore[return-value]


# errors raised by the engines' own libraries: shown as one line, never a traceback
ENGINE_MODULES = ("duckdb", "_duckdb", "psycopg", "pyspark", "py4j")


WAIT_SECONDS = 30.0
WaitOption = Annotated[float, typer.Option(
    "--wait", min=0, max=86_400, envvar="FUNNELMETRICS_WAIT",
    help="Seconds to wait while another process (a server's request, an ingest) is using the "
         "workspace, before giving up (0: at once).")]


def open_workspace(db: str | Path, *, read_only: bool = False, must_exist: bool = True,
                   wait: float | None = None) -> Any:
    """Open the workspace at `db`, with a clear message when it does not exist. While another
    process holds the file (a server answering a request, an ingest), wait for it — saying so
    once on stderr — up to `wait` seconds ($FUNNELMETRICS_WAIT, default 30)."""
    import funnelmetrics

    return _opening(db, lambda: funnelmetrics.open(str(db), read_only=read_only),
                    must_exist=must_exist, wait=wait)


def open_duckdb(db: str | Path, *, wait: float | None = None) -> Any:
    """The workspace's DuckDB file opened read-only by DuckDB alone (no Ibis: a kept query's
    answer, `compile.sqlcache`), in UTC, waiting like `open_workspace`."""
    import duckdb

    def connect() -> Any:
        con = duckdb.connect(str(db), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        return con

    return _opening(db, connect, must_exist=True, wait=wait)


def _opening(db: str | Path, opener: Any, *, must_exist: bool, wait: float | None) -> Any:
    from funnelmetrics.errors import ConfigError

    target = str(db)
    if must_exist and "://" not in target and not Path(target).exists():
        raise ConfigError(f"{db}: no workspace here (run `funnelmetrics init --db {db}` "
                          "or `funnelmetrics demo`)")
    wait = _wait_seconds() if wait is None else wait
    deadline = time.monotonic() + wait
    pause, told = 0.02, False
    while True:
        try:
            return opener()
        except FunnelmetricsError:
            raise
        except Exception as exc:  # the database refused to open: a user-facing condition
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise
            if not _is_lock(exc):
                raise ConfigError(f"{db}: cannot open the database ({_reason(exc)})") from None
            if not told and wait > 0:
                err_console.print(f"waiting for {db}: another process is using it "
                                  f"(up to {wait:g} s, --wait)…", highlight=False)
                told = True
            if time.monotonic() >= deadline:
                raise ConfigError(f"{db}: busy — another process is using the workspace "
                                  f"(waited {wait:g} s; try again, or a longer --wait)") from None
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.25)


def _wait_seconds() -> float:
    import math
    import os

    try:
        value = float(os.environ.get("FUNNELMETRICS_WAIT", WAIT_SECONDS))
    except ValueError:
        return WAIT_SECONDS
    return value if math.isfinite(value) and value >= 0 else WAIT_SECONDS


def _is_lock(exc: Exception) -> bool:
    """DuckDB's "Could not set lock on file …: Conflicting lock is held in … (PID n)"."""
    return "lock" in str(exc).lower()


def _reason(exc: Exception) -> str:
    """The first line of the database's message, without the process id of another program."""
    import re

    return re.sub(r"\s*\(?PID \d+\)?", "", str(exc).splitlines()[0]) if str(exc) else \
        type(exc).__name__


def _print_version(value: bool) -> None:
    if value:
        print(f"funnelmetrics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", "-V", help="Print the version and exit.", is_eager=True,
        callback=_print_version)] = False) -> None:
    """Sales- and marketing-funnel metrics from CRM, marketing and billing data."""


def register_only(first: list[str]) -> None:
    """When the first argument names a command or group, leave only it registered: Typer
    builds every registered command (each parameter's type, through pydantic) before it runs
    one — 70 ms for all of them, a twentieth of a first-time `metric`. Anything else first (an
    option, a typo, nothing) leaves them all, for the help and "no such command"."""
    from typer.main import get_command_name

    if not first:
        return
    commands = [c for c in app.registered_commands
                if (c.name or get_command_name(c.callback.__name__)) == first[0]]
    groups = [g for g in app.registered_groups if g.name == first[0]]
    if commands or groups:
        app.registered_commands[:], app.registered_groups[:] = commands, groups


GC_THRESHOLD = 10_000  # allocations between young-generation collections (Python's: 700)


def main() -> None:
    import gc

    from funnelmetrics.cli.i18n import run

    # A command loads large libraries (Ibis, sqlglot, Babel's locale data) into a short-lived
    # process; at Python's default threshold the collector walks their many long-lived objects
    # again and again: a seventh of a first-time `metric` (benchmarks/bench_cli.py). It still
    # collects, less often.
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    register_only(sys.argv[1:2])
    try:
        run(app, COMMAND_PANELS)  # the help in $FUNNELMETRICS_LANG
    except BrokenPipeError:  # `funnelmetrics metric … | head`
        sys.exit(0)
    finally:
        # The process ends here. Tearing its modules down, Python runs full collections that
        # walk every object the command loaded (a sixth of a first-time `metric`); frozen,
        # what is still alive is left to the operating system. Nothing waits on the collector:
        # the commands close their files and connections themselves.
        gc.freeze()
