"""Issue 19, "no traceback, ever": random option values for `metric`, `funnel`, `ingest` and
`check` through Typer's CliRunner. Whatever is typed, the exit code is 0 (answered), 1 (a
one-line error) or 2 (a usage error), never an uncaught exception. The probe's failing inputs
are the explicit examples."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_web_data import build_workspace
from typer.testing import CliRunner

from funnelmetrics.cli import app as cli_app

RUNNER = CliRunner()
FUZZ = settings(max_examples=20, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

NUMBERS = ["nan", "NaN", "inf", "-inf", "1e308", "1e18", "-1e308", "0", "-1", "-0", "30",
           "0.5", "3650", "3651", "abc", "", "1_000", "0x10", "1e-320"]
DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "1900-01-01", "2026-02-30", "2026-13-01",
         "2026-01-01", "2025-06-15", "2026", "26-1-1", "01/02/2026", "x", "", "now",
         "2026-01-01T25:00", "2200-01-01", "2201-01-01"]
DIMS = ["source", "rep.team", "lead_id", "account.industry", "campaign_id", "nope", "",
        "source.x", "rep_id", "a=b"]
METRICS = ["leads_created", "win_rate", "stage_conversion_rate", "enps", "lead_conversion_rate",
           "pipeline_value", "average_deal_size", "nope", ""]
GRAINS = ["day", "week", "month", "quarter", "year", "all", "fortnight", "", "DAY"]


def ok(result: object) -> None:
    """Exit 0, 1 or 2 with no uncaught exception and no traceback in what is printed."""
    code, exc = result.exit_code, result.exception  # type: ignore[attr-defined]
    assert code in (0, 1, 2), (code, result.output)  # type: ignore[attr-defined]
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    if code == 1:  # a user's mistake: one line
        errors = [line for line in result.output.splitlines()  # type: ignore[attr-defined]
                  if line.startswith("error:")]
        assert len(errors) <= 1, result.output  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def db() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="funnelmetrics-cli-fuzz-"))
    build_workspace(folder / "funnel.duckdb", leads=200)
    yield folder / "funnel.duckdb"
    shutil.rmtree(folder, ignore_errors=True)


def _options(draw: st.DrawFn, *, funnel: bool) -> list[str]:
    args: list[str] = []
    for option, values in (("--start", DATES), ("--end", DATES), ("--as-of", DATES)):
        if draw(st.booleans()):
            args += [option, draw(st.sampled_from(values) | st.text(max_size=12))]
    if not funnel and draw(st.booleans()):
        args += ["--grain", draw(st.sampled_from(GRAINS))]
    for _ in range(draw(st.integers(0, 1 if funnel else 3))):
        args += ["--by", draw(st.sampled_from(DIMS) | st.text(max_size=8))]
    for _ in range(draw(st.integers(0, 2))):
        args += ["--where", f"{draw(st.sampled_from(DIMS))}={draw(st.text(max_size=6))}"]
    if not funnel:
        for _ in range(draw(st.integers(0, 2))):
            key = draw(st.sampled_from(["window_days", "stage", "from_stage", "to_stage", "x"]))
            args += ["--param", f"{key}={draw(st.sampled_from(NUMBERS + ['mql', 'won']))}"]
    else:
        if draw(st.booleans()):
            args += ["--mode", draw(st.sampled_from(["cumulative", "strict", "loose", ""]))]
        if draw(st.booleans()):
            args += ["--funnel", draw(st.sampled_from(["sales", "product", "nope", ""]))]
    if draw(st.booleans()):
        args += ["--format", draw(st.sampled_from(["table", "json", "csv", "xml"]))]
    if draw(st.booleans()):
        args += ["--lang", draw(st.sampled_from(["en", "id", "ms", "fr", ""]))]
    return args


@st.composite
def metric_args(draw: st.DrawFn) -> list[str]:
    names = draw(st.lists(st.sampled_from(METRICS) | st.text(max_size=10), min_size=1,
                          max_size=2))
    return ["metric", *names, *_options(draw, funnel=False)]


@st.composite
def funnel_args(draw: st.DrawFn) -> list[str]:
    return ["funnel", *_options(draw, funnel=True)]


@FUZZ
@given(args=metric_args())
@example(args=["metric", "leads_created", "--start", "9999-12-31"])
@example(args=["metric", "leads_created", "--end", "9999-12-31", "--grain", "week"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=nan"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=inf"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=1e308"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=1e18"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=0"])
@example(args=["metric", "lead_conversion_rate", "--param", "window_days=-5"])
@example(args=["metric", "leads_created", "--by", "source", "--by", "source"])
@example(args=["metric", "win_rate", "--grain", "day", "--start", "1900-01-01"])
@example(args=["metric", "enps", "--by", "respondent_id"])
def test_metric_never_a_traceback(db: Path, args: list[str]) -> None:
    result = RUNNER.invoke(cli_app, [*args, "--db", str(db)])
    ok(result)
    if "window_days=" in " ".join(args) and result.exit_code == 0:
        # only a finite window in (0, 3650] is accepted
        for value in (a.split("=", 1)[1] for a in args if a.startswith("window_days=")):
            assert 0 < float(value) <= 3650, (value, result.output)


@FUZZ
@given(args=funnel_args())
@example(args=["funnel", "--start", "9999-12-31"])
@example(args=["funnel", "--as-of", "0001-01-01"])
@example(args=["funnel", "--by", "source", "--where", "source=web", "--mode", "loose"])
def test_funnel_never_a_traceback(db: Path, args: list[str]) -> None:
    ok(RUNNER.invoke(cli_app, [*args, "--db", str(db)]))


TABLE_FILES = ["leads.csv", "stage_events.csv", "opportunities.csv", "fx_rates.csv",
               "touchpoints.csv", "leads.parquet", "leads.xlsx", "leads.jsonl", "junk.csv",
               "leads.csv.gz", "leads.txt"]
HEADERS = ["lead_id,created_at,source", "lead_id,created_at", "currency,date,rate_to_reporting",
           "lead_id,stage,occurred_at", "opportunity_id,created_at,status,amount,closed_at",
           "a;b;c", ""]
CELLS = ["L1", "2026-01-05", "9999-12-31", "01/02/2026", "13/13/2026", "0", "-1", "1,5", "nan",
         "=HYPERLINK(\"x\")", "\x00", "é", "won", "", "\"", "1e308"]


@st.composite
def load_args(draw: st.DrawFn) -> tuple[str, str, bytes, list[str]]:
    command = draw(st.sampled_from(["ingest", "check"]))
    name = draw(st.sampled_from(TABLE_FILES))
    header = draw(st.sampled_from(HEADERS))
    lines = [header]
    for _ in range(draw(st.integers(0, 4))):
        width = max(1, header.count(",") + 1) + draw(st.integers(-1, 1))
        lines.append(",".join(draw(st.sampled_from(CELLS) | st.text(max_size=5))
                              for _ in range(max(width, 0))))
    body = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        body = draw(st.binary(max_size=40)) + body
    options: list[str] = []
    if draw(st.booleans()):
        options += ["--date-format", draw(st.sampled_from(["DD/MM/YYYY", "MM/DD/YYYY",
                                                           "YYYY/MM/DD", "nope", ""]))]
    if draw(st.booleans()):
        options += ["--decimal", draw(st.sampled_from([",", ".", ";", ""]))]
    if draw(st.booleans()):
        options += ["--encoding", draw(st.sampled_from(["utf-8", "cp1252", "latin-1", "nope"]))]
    if draw(st.booleans()):
        options += ["--table", draw(st.sampled_from(["leads", "fx_rates", "nope"]))]
    if command == "ingest" and draw(st.booleans()):
        options += [draw(st.sampled_from(["--strict", "--replace-rows"]))]
    if draw(st.booleans()):
        options += ["--format", draw(st.sampled_from(["table", "json", "csv"]))]
    return command, name, body, options


@FUZZ
@given(case=load_args())
@example(case=("ingest", "fx_rates.csv", b"currency,date,rate_to_reporting\nIDR,2026-01-01,0\n",
               []))
@example(case=("ingest", "leads.csv", b"lead_id,created_at\nL1,2026-01-05\n",
               ["--replace-rows"]))
@example(case=("check", "leads.parquet", b"not parquet", []))
@example(case=("ingest", "leads.csv", b"lead_id,created_at\nL1,9999-12-31\n", ["--strict"]))
def test_ingest_and_check_never_a_traceback(tmp_path_factory: pytest.TempPathFactory,
                                            case: tuple[str, str, bytes, list[str]]) -> None:
    command, name, body, options = case
    folder = tmp_path_factory.mktemp("load")
    path = folder / "files" / name
    path.parent.mkdir()
    path.write_bytes(body)
    result = RUNNER.invoke(cli_app, [command, str(path), "--db", str(folder / "w.duckdb"),
                                     *options])
    ok(result)
