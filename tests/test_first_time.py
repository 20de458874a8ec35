"""A metric asked the first time on the command line (issue "Fast and clear", item 1): on a
DuckDB workspace its SQL runs through DuckDB itself into `serialize.Rows` — never through Ibis's
execute, which loads pandas and pyarrow — and answers exactly what the Ibis path answers.

Several metrics in one `metric a b` run the same way, each compiled on its own (no batch, no
pandas): they must print what each asked alone prints, and answer what the Python API's batch
(Ibis, pandas) answers.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import os
import subprocess
import sys

import pytest
from journeys import journeys
from test_cli_metric import EVENTS, LEADS, OPPORTUNITIES, Q1
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.compile import sqlcache
from funnelmetrics.compile.values import ColumnsProxy, values_table
from funnelmetrics.query import kept_query, once_query

pytestmark = pytest.mark.duckdb_only("the first-time shortcut is DuckDB's own connection")


@pytest.fixture
def db(tmp_path):
    """test_cli_metric's journeys: A web (lead Jan 1, mql Jan 3, sql Jan 5), B ads (lead Jan 10,
    mql Jan 12), C web (lead Feb 3, mql Feb 5, sql Feb 6); O1 (A) won Jan 25 1000, O2 (B)
    lost Feb 1 500, O3 (C) open 700."""
    journeys(tmp_path, EVENTS, leads=LEADS, opportunities=OPPORTUNITIES).close()
    return str(tmp_path / "journeys.duckdb")


@pytest.fixture
def cache_off(monkeypatch):
    monkeypatch.setenv(sqlcache.ENV, "off")


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


HEAVY = ("ibis", "pandas", "pyarrow", "numpy")


def in_a_new_process(args: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    """The command's output, run as `funnelmetrics` runs it, and which of HEAVY it loaded."""
    probe = ("import sys\nfrom funnelmetrics.cli import main\nsys.argv = ['funnelmetrics', "
             f"*{args!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    return run.stdout, ast.literal_eval(run.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("cache", ["off", "never asked"])
def test_a_first_time_metric_loads_neither_pandas_nor_pyarrow(db, tmp_path, cache):
    """Without --start/--end (the default range asks the data its first and last days) and with
    a filter; the cache off, or on but never asked (compiled, kept, answered)."""
    env = {sqlcache.ENV: "off" if cache == "off" else str(tmp_path / "kept")}
    out, loaded = in_a_new_process(["metric", "win_rate", "--db", db, "--format", "csv"], env)
    assert loaded == ["ibis"]  # compiled with Ibis; answered without pandas or pyarrow
    # by hand: closed deals by month of closing — January O1 won (1/1), February O2 lost (0/1)
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0][:6] == ["metric", "unit", "period_start", "value", "numerator",
                           "denominator"]
    assert [r[2:6] for r in rows[1:]] == [["2026-01-01", "1.0", "1.0", "1.0"],
                                          ["2026-02-01", "0.0", "0.0", "1.0"]]
    out, loaded = in_a_new_process(["metric", "stage_reached", "--param", "stage=sql",
                                    "--where", "source=web", *Q1, "--db", db], env)
    assert loaded == ["ibis"]
    assert "Leads reaching a stage" in out


@pytest.mark.parametrize("cache", ["off", "never asked"])
def test_a_first_time_money_metric_in_two_currencies_loads_neither(tmp_path, cache):
    """The currency probes (is any deal foreign? has every foreign deal a rate?) are asked
    through DuckDB itself too."""
    ws = journeys(tmp_path, EVENTS, leads=LEADS, opportunities=OPPORTUNITIES)
    ws.duckdb.execute("UPDATE opportunities SET currency = 'EUR' WHERE lead_id = 'A'")
    ws.duckdb.execute("INSERT INTO fx_rates VALUES ('EUR', '2026-01-01', 1.1), "
                      "('EUR', '2026-01-26', 1.3)")
    ws.close()
    db = str(tmp_path / "journeys.duckdb")
    env = {sqlcache.ENV: "off" if cache == "off" else str(tmp_path / "kept")}
    out, loaded = in_a_new_process(["metric", "won_revenue", *Q1, "--db", db, "--format",
                                    "csv"], env)
    assert loaded == ["ibis"]
    # by hand: O1 (A) won Jan 25, 1000 EUR at the rate on or before that day (1.1, Jan 1; the
    # 1.3 of Jan 26 is later) = 1100 USD; February and March won nothing
    rows = [line.split(",") for line in out.splitlines()][1:]
    assert [(r[2], float(r[3])) for r in rows] == [("2026-01-01", 1100.0),
                                                   ("2026-02-01", 0.0), ("2026-03-01", 0.0)]
    # a foreign deal without a rate on or before its day: one line naming it, still no pandas
    ws = funnelmetrics.open(db)
    ws.duckdb.execute("DELETE FROM fx_rates WHERE date = '2026-01-01'")
    ws.close()
    out, loaded = in_a_new_process(["metric", "won_revenue", *Q1, "--db", db], env)
    assert out == "" and loaded == ["ibis"]
    result = CliRunner().invoke(app, ["metric", "won_revenue", *Q1, "--db", db])
    assert result.exit_code == 1
    assert "no exchange rate for EUR on or before 2026-01-25" in result.stderr


# Requests of several metrics, each metric's own parameters;
# within a request the metrics are all cohort metrics or none (a CSV of several is one table).
CASES = {
    "Q1": ({"win_rate": {}, "average_deal_size": {}}, Q1),
    "default range": ({"win_rate": {}, "average_deal_size": {}}, []),
    "cohorts by source": ({"stage_conversion_rate": {"from_stage": "MQL"},
                           "lead_conversion_rate": {}}, ["--by", "source", *Q1]),
    "filter": ({"stage_reached": {"stage": "mql"},
                "time_in_stage": {"stage": "mql", "stat": "median"}},
               ["--where", "source=web", *Q1]),
    "as of, by source": ({"pipeline_value": {}, "won_revenue": {}},
                         ["--by", "source", "--as-of", "2026-02-15", *Q1]),
    "weeks": ({"leads_created": {}, "sales_cycle_days": {}},
              ["--grain", "week", "--start", "2026-01-01", "--end", "2026-02-28"]),
}


def params(given: dict[str, str]) -> list[str]:
    return [a for k, v in given.items() for a in ("--param", f"{k}={v}")]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_first_time_answer_is_the_ibis_answer(db, cache_off, case, fmt):
    metrics, common = CASES[case]
    args = [*common, "--db", db, "--format", fmt]
    every = {k: v for own in metrics.values() for k, v in own.items()}
    together = cli("metric", *metrics, *params(every), *args)
    one_by_one = [cli("metric", m, *params(own), *args) for m, own in metrics.items()]
    if fmt == "csv":  # one header for the whole table
        one_by_one = one_by_one[:1] + [o.split("\n", 1)[1] for o in one_by_one[1:]]
    assert "".join(one_by_one) == together
    assert together.count("2026-01") >= 2  # both metrics have January


@pytest.mark.parametrize("case", list(CASES))
def test_several_metrics_first_time_are_the_python_apis_batch(db, cache_off, case):
    """`metric a b` (each compiled alone, run by DuckDB itself, in a process that loads no
    pandas) answers what `ws.metrics` (one batch through Ibis, pandas) answers."""
    from funnelmetrics import catalog
    from funnelmetrics.serialize import metric_json

    metrics, common = CASES[case]
    every = {k: v for own in metrics.values() for k, v in own.items()}
    out, loaded = in_a_new_process(["metric", *metrics, *params(every), *common, "--db", db,
                                    "--format", "json"], {sqlcache.ENV: "off"})
    assert loaded == ["ibis"]
    got = [json.loads(line) for line in out.splitlines() if line.strip()]
    query = {"grain": "month", "by": [], "where": {}}
    flags = iter(common)
    for flag in flags:
        value = next(flags)
        if flag == "--by":
            query["by"] = [value]
        elif flag == "--where":
            key, _, wanted = value.partition("=")
            query["where"] = {key: wanted}
        else:
            query[flag.removeprefix("--").replace("-", "_")] = value
    stages = {"MQL": "mql"}  # the CLI matches stage names whatever their case
    requests = [(m, {**query, "params": {k: stages.get(v, v) for k, v in own.items()}})
                for m, own in metrics.items()]
    with funnelmetrics.open(db, read_only=True) as ws:
        frames = ws.metrics(requests)
    units = [catalog.get(m).unit.value for m in metrics]
    want = [json.loads(json.dumps(metric_json(m, u, df)))
            for m, u, df in zip(metrics, units, frames, strict=True)]
    assert alike(got, want)
    assert any(r["value"] for answer in got for r in answer["rows"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A generated workspace with every table filled (subscriptions, spend, surveys…)."""
    from funnelmetrics.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "funnel.duckdb"
    ws, _ = build_demo(path, leads=400, months=12, seed=5, end=dt.date(2026, 6, 30))
    ws.close()
    return str(path)


def alike(a: object, b: object) -> bool:
    """Equal JSON, floats to 12 significant digits: DuckDB adds a mean's doubles in whatever
    order its threads finish, so the last bit of the same query's mean may differ run to run."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(alike(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(alike(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_alike_tells_a_last_bit_from_a_cent():
    assert alike({"v": [2.9606105324074075]}, {"v": [2.960610532407407]})
    assert not alike({"v": [1234.56]}, {"v": [1234.57]})
    assert not alike({"v": [1.0]}, {"v": [None]}) and not alike({"v": 1}, {"v": 1.0})


def test_every_metric_first_time_is_the_python_apis_answer(demo, cache_off):
    """Each metric of the catalogue over the data's whole range (its probes asked through
    DuckDB itself) as JSON: the same object as the Python API's pandas results serialised."""
    from funnelmetrics import catalog
    from funnelmetrics.serialize import metric_json

    metrics = catalog.all_metrics()
    with funnelmetrics.open(demo, read_only=True) as ws:  # in one batch: sharing its work
        frames = ws.metrics([m.id for m in metrics])
    expected = {m.id: metric_json(m.id, m.unit.value, df)
                for m, df in zip(metrics, frames, strict=True)}
    valued = 0
    for metric_id, want in expected.items():
        got = json.loads(cli("metric", metric_id, "--db", demo, "--format", "json"))
        assert alike(got, json.loads(json.dumps(want))), metric_id
        valued += any(r["value"] is not None for r in got["rows"])
    assert valued >= 40  # the demo gives nearly every metric figures, not only nulls


def test_the_period_spine_is_the_table_ibis_makes_of_it():
    """Ibis runs the spine itself on other engines: it receives what `ibis.memtable` makes of
    the same columns (a DataFrame, or Arrow), and the rows are the values given."""
    import ibis
    import pandas as pd

    columns = {"period_start": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
               "next_start": [dt.datetime(2026, 1, 31, 17), dt.datetime(2026, 2, 28, 17)]}
    schema = {"period_start": "date", "next_start": "timestamp"}
    ours, theirs = values_table(columns, schema).op(), ibis.memtable(columns, schema=schema).op()
    assert ours.schema == theirs.schema
    pd.testing.assert_frame_equal(ours.data.to_frame(), theirs.data.to_frame())
    assert ours.data.to_pyarrow(ours.schema).equals(theirs.data.to_pyarrow(theirs.schema))
    assert isinstance(ours.data, ColumnsProxy)
    assert list(ours.data.rows(["next_start", "period_start"])) == [
        (dt.datetime(2026, 1, 31, 17), dt.date(2026, 1, 1)),
        (dt.datetime(2026, 2, 28, 17), dt.date(2026, 2, 1))]
    empty = values_table({"period_start": [], "next_start": []}, schema).op()
    assert len(empty.data.to_frame()) == 0 and empty.schema == ours.schema


def test_tables_read_through_duckdb_are_the_tables_ibis_reads(db):
    """The table list and each schema asked with DuckDB's fetchall (no pyarrow) are Ibis's own,
    a user's extra columns and a temporary table included."""
    ws = funnelmetrics.open(db)
    try:
        ws.duckdb.execute('ALTER TABLE leads ADD COLUMN "deal size" DECIMAL(12, 2)')
        ws.duckdb.execute("ALTER TABLE leads ADD COLUMN tags VARCHAR[]")
        ws.duckdb.execute("CREATE TEMP TABLE scratch (x INTEGER NOT NULL)")
        assert sorted(ws._table_names()) == sorted(ws.con.list_tables())
        assert "scratch" in ws._table_names()
        for name in ws.con.list_tables():
            assert ws._duckdb_table(name).schema() == ws.con.table(name).schema(), name
        assert ws._duckdb_table("leads").schema()["deal size"].is_decimal()
        assert not ws._duckdb_table("scratch").schema()["x"].nullable
    finally:
        ws.close()


def test_the_questions_compiling_asks_through_duckdb_are_kept_as_probes(db):
    """The default range's first and last days, asked through DuckDB itself, are kept with the
    SQL (to be asked again when the data changes), each question once."""
    with funnelmetrics.open(db, read_only=True) as ws:
        entry = kept_query(ws, "stage_reached", params={"stage": "lead"})
        # leads created Jan 1 (A), Jan 10 (B), Feb 3 (C)
        assert [
            answer for _, answer in entry.probes[1:]] == ['[["2026-01-01 00:00:00", "2026-02-03 00:00:00"]]']
        assert all(sqlcache.ask(ws.duckdb, sql) == answer for sql, answer in entry.probes)
        # amounts: the currency probe, asked for the range and for the query, asked once
        deals = kept_query(ws, "average_deal_size", params={})
        questions = [sql for sql, _ in deals.probes]
        assert len(questions) == len(set(questions)) == 3  # tables, currencies, range
        assert ws.asked is None  # nothing noted once compiled


def test_run_once_holds_its_values(db):
    """Not kept (the cache off): the SQL holds the instant and the filter's values."""
    with funnelmetrics.open(db, read_only=True) as ws:
        entry = once_query(ws, "stage_reached", params={"stage": "lead"},
                           where={"source": "web"}, start="2026-01-01", end="2026-03-31")
        assert entry.where_params == 0 and not entry.binds_now
        assert sqlcache.NOW not in entry.sql and "'web'" in entry.sql
        rows = sqlcache.run(ws.duckdb, entry, [], dt.datetime.now())
        value = entry.columns.index("value")
        assert [r[value] for r in rows] == [1.0, 1.0, 0.0]  # A in January, C in February


@pytest.mark.parametrize("args", [["metric", "--help"], ["user", "add", "--help"], ["metrc"],
                                  ["--help"], ["-V"]], ids=" ".join)
def test_the_command_line_builds_only_the_command_asked(args):
    """`main` leaves registered only the command (or group) its first argument names: what it
    prints is what the whole application prints; a typo still gets "did you mean"."""
    code = "import sys; sys.argv[0] = 'funnelmetrics'; from funnelmetrics.cli import main; main()"
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80", "FUNNELMETRICS_LANG": "en"})
    whole = CliRunner().invoke(app, args, prog_name="funnelmetrics", env={"COLUMNS": "80"})
    assert (run.returncode, run.stdout, run.stderr) == (whole.exit_code, whole.stdout,
                                                        whole.stderr)
    assert run.stdout or "Did you mean 'metric'" in run.stderr
