"""`funnelmetrics metric|funnel|glossary` in process through Typer's CliRunner (SPEC §5)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from journeys import journeys
from typer.testing import CliRunner

from funnelmetrics.cli import app

# A  web  lead Jan 1, mql Jan 3, sql Jan 5      O1 (lead A) won  Jan 25, 1000
# B  ads  lead Jan 10, mql Jan 12               O2 (lead B) lost Feb 1,   500
# C  web  lead Feb 3, mql Feb 5, sql Feb 6      O3 (lead C) open,          700
EVENTS = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-05")],
    "B": [("lead", "2026-01-10"), ("mql", "2026-01-12")],
    "C": [("lead", "2026-02-03"), ("mql", "2026-02-05"), ("sql", "2026-02-06")],
}
Q1 = ["--start", "2026-01-01", "--end", "2026-03-31"]
LEADS = {"A": {"source": "web"}, "B": {"source": "ads"}, "C": {"source": "web"}}
OPPORTUNITIES = [
    dict(lead_id="A", created_at="2026-01-05", status="won", closed_at="2026-01-25", amount=1000),
    dict(lead_id="B", created_at="2026-01-12", status="lost", closed_at="2026-02-01", amount=500),
    dict(lead_id="C", created_at="2026-02-06", amount=700)]


@pytest.fixture
def db(tmp_path):
    """A workspace file (the CLI takes --db PATH, so this runs on DuckDB only)."""
    ws = journeys(tmp_path, EVENTS, leads=LEADS, opportunities=OPPORTUNITIES)
    ws.close()  # the CLI opens the file itself (read-only)
    return str(tmp_path / "journeys.duckdb")


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_metric_json_one_line_per_metric(db):
    result = run("metric", "win_rate", "stage_conversion_rate", "--format", "json",
                 "--param", "from_stage=mql", *Q1, "--db", db)
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    assert [line["metric"] for line in lines] == ["win_rate", "stage_conversion_rate"]
    assert all(set(line) == {"metric", "unit", "rows"} for line in lines)
    assert all(line["unit"] == "ratio" for line in lines)
    for line in lines:
        for row in line["rows"]:
            assert {"period_start", "value", "numerator", "denominator"} <= set(row)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["period_start"])
    win = [(r["period_start"], r["value"], r["numerator"], r["denominator"])
           for r in lines[0]["rows"]]
    assert win == [("2026-01-01", 1.0, 1, 1),  # O1 won
                   ("2026-02-01", 0.0, 0, 1),  # O2 lost (Feb 1)
                   ("2026-03-01", None, 0, 0)]  # nothing closed → null ("no data")
    conv = [(r["period_start"], r["value"], r["numerator"], r["denominator"])
            for r in lines[1]["rows"]]
    # mql → sql (the next stage): Jan cohort A, B → A only = 1/2; Feb cohort C → 1/1
    assert conv == [("2026-01-01", 0.5, 1, 2), ("2026-02-01", 1.0, 1, 1),
                    ("2026-03-01", None, 0, 0)]


def test_metric_json_count_metric_has_null_ratio_parts(db):
    result = run("metric", "leads_created", "--format", "json", "--start", "2026-01-01",
                 "--end", "2026-01-31", "--db", db)
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    assert line["unit"] == "count"
    # January is over (the query's instant is now): not partial
    assert line["rows"] == [{"period_start": "2026-01-01", "value": 2,  # A, B
                             "numerator": None, "denominator": None, "partial": False}]
    # SPEC §5 order, then the period flag last
    assert list(line["rows"][0]) == ["period_start", "value", "numerator", "denominator",
                                     "partial"]


def test_metric_by_and_where(db):
    result = run("metric", "win_rate", "--format", "json", "--by", "source", *Q1, "--db", db)
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    rows = {(r["period_start"], r["source"]): r["value"] for r in line["rows"]}
    assert rows[("2026-01-01", "web")] == 1.0  # O1 (lead A, web)
    assert rows[("2026-02-01", "ads")] == 0.0  # O2 (lead B, ads)
    assert rows[("2026-02-01", "web")] is None  # web closed nothing in Feb
    result = run("metric", "win_rate", "--format", "json", "--where", "source=web", *Q1,
                 "--db", db)
    (line,) = json_lines(result.stdout)
    assert [r["value"] for r in line["rows"]] == [1.0, None, None]  # only O1 is web and closed
    result = run("metric", "win_rate", "--format", "json", "--where", "source=web",
                 "--where", "source=ads", *Q1, "--db", db)  # the same DIM twice: either value
    (line,) = json_lines(result.stdout)
    assert [r["value"] for r in line["rows"]] == [1.0, 0.0, None]


def test_metric_grain_and_as_of(db):
    result = run("metric", "win_rate", "--format", "json", "--grain", "quarter", *Q1,
                 "--as-of", "2026-01-31", "--db", db)
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    # as of Jan 31 only O1 has closed (O2 closes Feb 1): Q1 = 1/1
    assert [(r["period_start"], r["value"], r["denominator"]) for r in line["rows"]] == [
        ("2026-01-01", 1.0, 1)]


def test_metric_csv(db):
    result = run("metric", "win_rate", "--format", "csv", *Q1, "--db", db)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["metric", "unit", "period_start", "value", "numerator",
                             "denominator", "partial"]
    assert [(r["period_start"], r["value"], r["partial"]) for r in rows] == [
        ("2026-01-01", "1.0", "false"), ("2026-02-01", "0.0", "false"),
        ("2026-03-01", "", "false")]  # null → empty; Q1 2026 is over
    assert {r["metric"] for r in rows} == {"win_rate"}


def test_metric_csv_of_several_metrics_is_one_table(db):
    result = run("metric", "win_rate", "stage_conversion_rate", "--format", "csv",
                 "--param", "from_stage=mql", *Q1, "--db", db)
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    header, body = table[0], table[1:]
    assert len(body) == 6  # 3 periods × 2 metrics, one header
    assert all(len(row) == len(header) for row in body), table  # a rectangular CSV
    assert [row[0] for row in body] == ["win_rate"] * 3 + ["stage_conversion_rate"] * 3
    # the flags last: immature (the cohort metric's; empty for win_rate), then partial
    assert header[-2:] == ["immature", "partial"]
    assert [row[-2] for row in body[:3]] == ["", "", ""]


def test_metric_table(db):
    result = run("metric", "win_rate", *Q1, "--db", db)
    assert result.exit_code == 0, result.output
    assert "Win rate" in result.stdout and "win_rate" in result.stdout
    assert "2026-03-01" in result.stdout and "—" in result.stdout  # March: no data
    result = run("metric", "win_rate", *Q1, "--lang", "id", "--db", db)
    assert "Tingkat kemenangan" in result.stdout


# ---- partial: the period is not over at the query's instant (--as-of, or now) ------------------
def rows_of(*args: str) -> list[dict]:
    result = run("metric", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    return line["rows"]


def test_partial_is_the_current_period_at_a_fixed_as_of(db):
    rows = rows_of("leads_created", *Q1, "--as-of", "2026-02-15", "--db", db)
    # as of Feb 15: January is over; February is not (it ends Mar 1); March has not begun.
    # Leads: Jan A, B = 2; Feb C (Feb 3, before the as-of instant) = 1; Mar none.
    assert [(r["period_start"], r["value"], r["partial"]) for r in rows] == [
        ("2026-01-01", 2, False), ("2026-02-01", 1, True), ("2026-03-01", 0, True)]


def test_as_of_exactly_at_a_period_boundary(db):
    # Feb 1 00:00 is January's end ("just before the next period starts"): January is over
    rows = rows_of("leads_created", *Q1, "--as-of", "2026-02-01", "--db", db)
    assert [(r["period_start"], r["partial"]) for r in rows] == [
        ("2026-01-01", False), ("2026-02-01", True), ("2026-03-01", True)]
    # one second earlier January is still running
    rows = rows_of("leads_created", *Q1, "--as-of", "2026-01-31T23:59:59", "--db", db)
    assert [(r["period_start"], r["partial"]) for r in rows] == [
        ("2026-01-01", True), ("2026-02-01", True), ("2026-03-01", True)]
    # quarters: Q1 ends at Apr 1 00:00
    rows = rows_of("leads_created", *Q1, "--grain", "quarter", "--as-of", "2026-04-01",
                   "--db", db)
    assert [(r["period_start"], r["value"], r["partial"]) for r in rows] == [
        ("2026-01-01", 3, False)]


def test_grain_all_with_an_end_in_the_future_is_partial(db):
    rows = rows_of("leads_created", "--grain", "all", "--start", "2026-01-01", "--end",
                   "2999-12-31", "--db", db)
    assert [(r["value"], r["partial"]) for r in rows] == [(3, True)]  # A, B, C; runs to 3000
    rows = rows_of("leads_created", "--grain", "all", "--start", "2026-01-01", "--end",
                   "2026-12-31", "--as-of", "2026-03-01", "--db", db)
    assert [(r["value"], r["partial"]) for r in rows] == [(3, True)]  # 2026 not over on Mar 1
    rows = rows_of("leads_created", "--grain", "all", "--start", "2026-01-01", "--end",
                   "2026-01-31", "--as-of", "2026-03-01", "--db", db)
    assert [(r["value"], r["partial"]) for r in rows] == [(2, False)]  # Jan ended Feb 1


def test_cohort_rows_end_with_immature_then_partial(db):
    rows = rows_of("stage_conversion_rate", "--param", "from_stage=mql", *Q1, "--as-of",
                   "2026-02-15", "--db", db)
    assert list(rows[0])[-5:] == ["value", "numerator", "denominator", "immature", "partial"]
    # a 180-day window: every cohort of Q1 is immature on Feb 15; February's period is partial
    assert [(r["period_start"], r["immature"], r["partial"]) for r in rows] == [
        ("2026-01-01", True, False), ("2026-02-01", True, True), ("2026-03-01", True, True)]


def test_csv_has_a_partial_column(db):
    result = run("metric", "leads_created", "--format", "csv", *Q1, "--as-of", "2026-02-15",
                 "--db", db)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "metric,unit,period_start,value,numerator,denominator,partial",
        "leads_created,count,2026-01-01,2.0,,,false",
        "leads_created,count,2026-02-01,1.0,,,true",
        "leads_created,count,2026-03-01,0.0,,,true"]


def test_table_marks_partial_periods_with_a_footnote(db):
    result = run("metric", "leads_created", *Q1, "--as-of", "2026-02-15", "--db", db)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2026-02-01 *" in out and "2026-03-01 *" in out
    assert "2026-01-01 *" not in out  # January is over
    assert "partial" not in out.split("┃")[1:-1]  # a mark, not a column
    assert "* period not over yet: its figures may still change" in out
    indonesian = run("metric", "leads_created", *Q1, "--as-of", "2026-02-15", "--lang", "id",
                     "--db", db).stdout
    assert "* periode belum berakhir: angkanya masih dapat berubah" in indonesian
    # nothing partial, no footnote
    over = run("metric", "leads_created", *Q1, "--as-of", "2026-06-01", "--db", db).stdout
    assert " *" not in over and "period not over" not in over


def test_table_marks_immature_cohorts(db):
    result = run("metric", "stage_conversion_rate", "--param", "from_stage=mql", *Q1,
                 "--as-of", "2026-02-15", "--db", db)
    assert result.exit_code == 0, result.output
    assert "2026-01-01 †" in result.stdout and "2026-02-01 *†" in result.stdout
    assert "† cohort younger than its conversion window" in result.stdout


def test_metric_explain_prints_sql_that_runs_as_is(db):
    """The printed SQL runs in a fresh DuckDB connection to the workspace file (no table that
    only lived in the CLI's session) and gives the metric's own rows."""
    import duckdb

    args = ["stage_conversion_rate", *Q1, "--by", "source", "--param", "from_stage=mql",
            "--as-of", "2026-12-31", "--db", db]  # a fixed instant: "now" is in the SQL otherwise
    result = run("metric", *args, "--explain")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- stage_conversion_rate")
    assert "memtable" not in result.stdout
    sql = result.stdout.split("\n", 1)[1]
    con = duckdb.connect(db, read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        ran = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    (expected,) = json_lines(run("metric", *args, "--format", "json").stdout)
    key = ("period_start", "source")
    got = sorted((str(r["period_start"]), r["source"], r["value"], r["numerator"],
                  r["denominator"]) for r in ran)
    want = sorted((r["period_start"], r["source"], r["value"], r["numerator"], r["denominator"])
                  for r in expected["rows"])
    assert got == want and len(want) >= 3, key
    # by hand: Jan web A (mql Jan 3 → sql Jan 5) 1/1; Jan ads B (mql, no sql) 0/1;
    # Feb web C (mql Feb 5 → sql Feb 6) 1/1
    assert [(p, s, v) for p, s, v, _, _ in want if v is not None] == [
        ("2026-01-01", "ads", 0.0), ("2026-01-01", "web", 1.0), ("2026-02-01", "web", 1.0)]


def test_explain_of_an_empty_range_runs(db):
    """A session table with no row is written out too (its columns and types alone)."""
    import funnelmetrics
    from funnelmetrics.cli.metric_cmds import _explain

    with funnelmetrics.open(db, read_only=True) as ws:
        sql = _explain(ws, "win_rate", start="2026-01-01", end="2026-03-31", grain="month")
        assert "memtable" not in sql
        assert len(ws.duckdb.execute(sql).fetchall()) == 3  # Jan, Feb, Mar


def test_typos_get_did_you_mean(db):
    result = run("metric", "win_rat", "--db", db)
    assert result.exit_code == 1 and "did you mean 'win_rate'?" in result.stderr
    result = run("metric", "stage_reached", "--param", "stag=mql", "--db", db)
    assert result.exit_code == 1 and "did you mean 'stage'?" in result.stderr
    result = run("metric", "win_rate", "--gran", "month", "--db", db)
    assert result.exit_code == 2 and "--grain" in result.output
    result = run("metric", "qqqqqq", "--db", db)
    assert "did you mean" not in result.stderr and "funnelmetrics metrics" in result.stderr


def test_stage_parameters_match_whatever_the_case(db):
    """--param stage=MQL is the stage mql (as ingest matches stages): A, B, C all reached mql,
    A in January and B in January, C in February."""
    upper = run("metric", "stage_reached", "--param", "stage=MQL", *Q1, "--format", "json",
                "--db", db)
    assert upper.exit_code == 0, upper.output
    rows = json_lines(upper.stdout)[0]["rows"]
    assert [(r["period_start"], r["value"]) for r in rows] == [
        ("2026-01-01", 2), ("2026-02-01", 1), ("2026-03-01", 0)]
    lower = run("metric", "stage_reached", "--param", "stage=mql", *Q1, "--format", "json",
                "--db", db)
    assert json_lines(lower.stdout)[0]["rows"] == rows


@pytest.mark.parametrize(("args", "message"), [
    (["metric", "no_such_metric"], "unknown metric"),
    (["metric", "win_rate", "--grain", "fortnight"], "grain"),
    (["metric", "win_rate", "--start", "2026-13-01"], "not a date"),
    (["metric", "win_rate", "--end", "yesterday"], "not a date"),
    (["metric", "win_rate", "--start", "2026-03-01", "--end", "2026-02-01"], "before"),
    (["metric", "win_rate", "--by", "no_such_dimension"], "unknown dimension"),
    (["metric", "win_rate", "--where", "no_such_dimension=1"], "unknown dimension"),
    # the third metric cannot be split by source: nothing of the first two is printed
    (["metric", "win_rate", "leads_created", "cac", "--by", "source"], "unknown dimension"),
    (["metric", "win_rate", "leads_created", "cac", "--by", "source", "--explain"],
     "unknown dimension"),
    (["metric", "win_rate", "--where", "source"], "KEY=VALUE"),
    (["metric", "win_rate", "--param", "no_such_param=1"], "no_such_param"),
    (["metric", "stage_conversion_rate", "--param", "from_stage=nowhere"], "unknown stage"),
    (["metric", "time_in_stage", "--param", "stat=p99"], "stat"),
    (["metric", "win_rate", "--lang", "fr"], "--lang"),
    (["funnel", "--by", "no_such_dimension"], "unknown dimension"),
])
def test_errors_are_one_line_without_traceback(db, args, message):
    result = run(*args, "--db", db)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]
    assert result.stdout == ""


def test_missing_database_is_a_one_line_error(tmp_path):
    result = run("metric", "win_rate", "--db", str(tmp_path / "nowhere.duckdb"))
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nowhere.duckdb" in lines[0]
    assert not (tmp_path / "nowhere.duckdb").exists()  # nothing created by a read


def test_funnel_json(db):
    result = run("funnel", "--format", "json", "--start", "2026-01-01", "--end", "2026-02-28",
                 "--db", db)
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    assert line["funnel"] == "sales"
    rows = {r["stage"]: r for r in line["rows"]}
    assert list(rows) == ["lead", "mql", "sql", "opportunity", "won"]
    # reached: lead A, B, C; mql A, B, C; sql A, C; nobody further
    assert [rows[s]["reached"] for s in rows] == [3, 3, 2, 0, 0]
    assert rows["lead"]["conversion_to_next"] == 1.0  # 3/3 reach mql
    assert rows["mql"]["conversion_to_next"] == pytest.approx(2 / 3)  # A, C of A, B, C
    assert rows["mql"]["median_days_in_stage"] == pytest.approx(1.5)  # A 2 d, C 1 d
    assert rows["sql"]["conversion_to_next"] == 0.0  # 0/2
    assert rows["opportunity"]["conversion_to_next"] is None  # no cohort: null
    assert rows["won"]["drop_off"] is None


def test_glossary_in_indonesian():
    result = run("glossary", "--lang", "id")
    assert result.exit_code == 0, result.output
    assert "Tingkat kemenangan" in result.stdout  # win_rate's Indonesian name
    assert "Nilai pipeline" in result.stdout
    assert "Of the opportunities closed" not in result.stdout  # no English description
    english = run("glossary", "--lang", "en")
    assert "Win rate" in english.stdout


def test_help_imports_no_heavy_module():
    """Start-up time: `funnelmetrics --help` (every command registered) loads no data stack,
    web framework or charting library — commands import them when they run."""
    code = ("import sys; from typer.testing import CliRunner; from funnelmetrics.cli import app; "
            "result = CliRunner().invoke(app, ['--help']); assert result.exit_code == 0; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'ibis', 'numpy', "
            "'duckdb', 'fastapi', 'plotly', 'babel'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
