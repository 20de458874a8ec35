"""The Typer application, shared options and the one-line error handling of every command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from funnelmetrics.errors import FunnelmetricsError

app = typer.Typer(
    name="funnelmetrics",
    help="Sales- and marketing-funnel metrics from CRM, marketing and billing data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


DbOption = Annotated[Path, typer.Option("--db", help="Workspace database (DuckDB file).",
                                        envvar="FUNNELMETRICS_DB")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="See the workspace as it stood at this date/instant.")]
DEFAULT_DB = Path("funnel.duckdb")

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
        return None

    return wrapper  # type: ignore[return-value]


def open_workspace(db: Path, *, read_only: bool = False, must_exist: bool = True) -> Any:
    """Open the workspace at `db`, with a clear message when it does not exist."""
    import funnelmetrics
    from funnelmetrics.errors import ConfigError

    target = str(db)
    if must_exist and "://" not in target and not db.exists():
        raise ConfigError(f"{db}: no workspace here (run `funnelmetrics init --db {db}` "
                          "or `funnelmetrics demo`)")
    try:
        return funnelmetrics.open(target, read_only=read_only)
    except FunnelmetricsError:
        raise
    except Exception as exc:  # the database refused to open: a user-facing condition
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise ConfigError(f"{db}: cannot open the database ({str(exc).splitlines()[0]})") \
                from None
        raise


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `funnelmetrics metric … | head`
        sys.exit(0)
