"""`funnelmetrics --help`, `-h` and `--version` start without the heavy libraries (issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app

HEAVY = ("pandas", "ibis", "fastapi", "plotly", "numpy", "duckdb", "pydantic", "scipy",
         "statsmodels", "sqlglot", "pyarrow", "starlette")

# Runs the real entry point in a fresh interpreter and prints which heavy modules it loaded.
PROBE = """
import json, sys
sys.argv = ["funnelmetrics", *json.loads(sys.argv[1])]
from funnelmetrics.cli import main
try:
    main()
except SystemExit:
    pass
print("LOADED=" + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY})))
"""


def loaded_by(*args: str) -> list[str]:
    code = PROBE.replace("{HEAVY}", repr(set(HEAVY)))
    out = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))],
                         capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("LOADED="))
    return json.loads(line.removeprefix("LOADED="))


def test_help_imports_no_heavy_module():
    assert loaded_by("--help") == []


def test_short_help_and_version_import_no_heavy_module():
    assert loaded_by("-h") == []
    assert loaded_by("--version") == []


def test_command_help_imports_no_data_library():
    """A command's own help: Typer (0.29) coerces its options through pydantic, so that one
    is allowed; pandas, Ibis, DuckDB and the web stack are not."""
    assert [m for m in loaded_by("metric", "--help") if m.split(".")[0] != "pydantic"] == []


def test_probe_sees_a_heavy_import():
    """The probe itself can fail: a command that needs Ibis (the catalogue's expressions)
    shows it."""
    assert "ibis" in [m.split(".")[0] for m in loaded_by("metrics", "--format", "json")]


def test_version_prints_package_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"funnelmetrics {funnelmetrics.__version__}"


def test_short_help_works_on_root_and_commands():
    root = CliRunner().invoke(app, ["-h"])
    assert root.exit_code == 0 and "Usage" in root.stdout
    sub = CliRunner().invoke(app, ["metric", "-h"])
    assert sub.exit_code == 0 and "--grain" in sub.stdout


def test_help_lists_commands_in_the_order_a_user_needs():
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"}).stdout
    order = ["demo", "init", "ingest", "check", "metrics", "metric", "funnel", "summary"]
    positions = [out.index(f"│ {name} ") for name in order]
    assert positions == sorted(positions)
    assert "Get started" in out


def test_an_engines_error_is_one_line_not_a_traceback(capsys) -> None:
    """A database error that reaches a command (a damaged file, a server gone away) is one
    line naming its type, exit code 1; any other exception is a bug and still raises."""
    import duckdb
    import pytest
    import typer

    from funnelmetrics.cli.app import handle_errors

    @handle_errors
    def broken() -> None:
        raise duckdb.IOException("IO Error: Could not read from file \"w.duckdb\"\nmore")

    with pytest.raises(typer.Exit) as exit_:
        broken()
    assert exit_.value.exit_code == 1
    err = capsys.readouterr().err
    assert "the database refused it (IOException: IO Error: Could not read" in err
    assert "more" not in err and "Traceback" not in err

    @handle_errors
    def bug() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        bug()
