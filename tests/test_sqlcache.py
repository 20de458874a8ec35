"""Kept queries (`funnelmetrics.compile.sqlcache`): a one-metric request asked again is answered
from its kept SQL, with the same output to the character as compiling it anew; a filter value
never asked before reuses its dimension's query; any write to the workspace, its settings or
the code makes a new one; the instant is filled in each time."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from journeys import journeys
from test_cli_metric import EVENTS as CLI_EVENTS
from test_cli_metric import LEADS, OPPORTUNITIES, Q1
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.compile import sqlcache
from funnelmetrics.query import kept_query

pytestmark = pytest.mark.duckdb_only("the kept SQL is for DuckDB files (a URL has no stamp)")

# The journeys of test_cli_metric (A web, B ads, C web; O1 won 1000, O2 lost 500, O3 open 700),
# and D, a lead of the source O'Brien on Mar 2.
EVENTS = {**CLI_EVENTS, "D": [("lead", "2026-03-02")]}


@pytest.fixture
def db(tmp_path):
    ws = journeys(tmp_path, EVENTS, leads={**LEADS, "D": {"source": "O'Brien"}},
                  opportunities=OPPORTUNITIES)
    ws.close()
    return str(tmp_path / "journeys.duckdb")


def kept_files(folder: Path) -> int:
    return len(list(folder.glob("*.json")))


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def uncached(monkeypatch, *args: str) -> str:
    with monkeypatch.context() as m:
        m.setenv(sqlcache.ENV, "off")
        return cli(*args)


REQUESTS = [
    ["win_rate", *Q1],
    ["win_rate"],  # the default range: the data's whole months
    ["stage_conversion_rate", "--param", "from_stage=MQL", "--by", "source", *Q1],
    ["stage_reached", "--param", "stage=sql", "--where", "source=web", *Q1],
    ["lead_conversion_rate", *Q1],  # a cohort metric: immature marks
    ["average_deal_size", "--grain", "quarter", *Q1],
    ["win_rate", "--as-of", "2026-02-15", *Q1],
    ["pipeline_value", "--by", "source", *Q1],
    ["time_in_stage", "--param", "stage=mql", "--param", "stat=median", *Q1],
]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("request_args", REQUESTS, ids=lambda r: " ".join(r[:3]))
def test_a_kept_answer_is_the_compiled_answer(db, monkeypatch, _sql_cache, request_args, fmt):
    args = [*request_args, "--db", db, "--format", fmt]
    fresh = uncached(monkeypatch, "metric", *args)
    assert kept_files(_sql_cache) == 0  # off writes nothing
    first = cli("metric", *args)  # compiled, kept, answered with the kept SQL
    assert kept_files(_sql_cache) == 1
    sqlcache.clear_memory()  # the next process: from the file
    again = cli("metric", *args)
    assert kept_files(_sql_cache) == 1
    assert first == fresh
    assert again == fresh


def test_a_filter_value_never_asked_reuses_its_dimensions_query(db, monkeypatch, _sql_cache):
    base = ["metric", "stage_reached", "--param", "stage=lead", *Q1, "--db", db, "--format",
            "csv"]
    cli(*base, "--where", "source=web")
    assert kept_files(_sql_cache) == 1
    for value in ("ads", "O'Brien", "nobody", "$__fm_w0", "web' OR '1'='1"):
        got = cli(*base, "--where", f"source={value}")
        assert got == uncached(monkeypatch, *base, "--where", f"source={value}")
    assert kept_files(_sql_cache) == 1  # every one answered by the first one's SQL
    rows = [line.split(",") for line in cli(*base, "--where", "source=O'Brien").splitlines()]
    assert [r[3] for r in rows[1:]] == ["0.0", "0.0", "1.0"]  # D, in March (hand count)
    # two values of one dimension are another shape: a query of its own, then reused
    two = cli(*base, "--where", "source=web", "--where", "source=ads")
    assert [line.split(",")[3] for line in two.splitlines()[1:]] == ["2.0", "1.0", "0.0"]
    cli(*base, "--where", "source=ads", "--where", "source=O'Brien")
    assert kept_files(_sql_cache) == 2


def test_new_rows_are_read_by_the_kept_query(db, monkeypatch, _sql_cache):
    """A load that adds rows inside the data's range leaves every probe's answer as it was:
    the kept SQL reads the new rows."""
    args = ["metric", "stage_reached", "--param", "stage=lead", *Q1, "--db", db, "--format",
            "csv"]
    before = cli(*args)
    con = duckdb.connect(db)
    con.execute("INSERT INTO leads (lead_id, created_at, source) "
                "VALUES ('E', TIMESTAMP '2026-03-20 00:00:00', 'web')")
    con.close()
    after = cli(*args)
    assert after != before
    assert after == uncached(monkeypatch, *args)
    assert [line.split(",")[3] for line in after.splitlines()[1:]] == ["2.0", "1.0", "2.0"]
    assert kept_files(_sql_cache) == 1  # the same query answered


def test_a_load_that_changes_a_probe_compiles_anew(db, monkeypatch, _sql_cache):
    """Without --start/--end the range is the data's (a probe): a lead in April adds a period,
    so the request is compiled again; a foreign-currency deal (another probe) likewise."""
    args = ["metric", "stage_reached", "--param", "stage=lead", "--db", db, "--format", "csv"]
    assert len(cli(*args).splitlines()) == 4  # header, Jan, Feb, Mar
    entry = next(iter(sqlcache._MEMORY.values()))
    assert len(entry.probes) >= 2  # the tables, and the data's first and last days
    con = duckdb.connect(db)
    con.execute("INSERT INTO leads (lead_id, created_at, source) "
                "VALUES ('E', TIMESTAMP '2026-04-20 00:00:00', 'web')")
    con.close()
    after = cli(*args)
    assert after == uncached(monkeypatch, *args)
    assert [line.split(",")[2] for line in after.splitlines()[1:]] == [
        "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    deal = ["metric", "average_deal_size", *Q1, "--db", db, "--format", "csv"]
    cli(*deal)
    con = duckdb.connect(db)
    con.execute("INSERT INTO fx_rates VALUES ('EUR', DATE '2026-01-01', 2.0)")
    con.execute("INSERT INTO opportunities (opportunity_id, lead_id, created_at, status, "
                "closed_at, amount, currency) VALUES ('O9', 'C', TIMESTAMP '2026-02-07', "
                "'won', TIMESTAMP '2026-02-10', 100, 'EUR')")
    con.close()
    got = cli(*deal)
    assert got == uncached(monkeypatch, *deal)
    # February: O9 alone, 100 EUR at 2.0 = 200 (hand-worked)
    assert next(line for line in got.splitlines() if "2026-02-01" in line).split(",")[3] == \
        "200.0"


def test_a_change_of_settings_is_a_new_query(db, _sql_cache):
    args = ["metric", "average_deal_size", *Q1, "--db", db]
    assert "$1,000" in cli(*args)
    (Path(db).parent / "funnelmetrics.toml").write_text('currency = "EUR"\n')
    assert "€1,000" in cli(*args)
    assert kept_files(_sql_cache) == 2


def test_a_damaged_cache_file_is_a_miss(db, monkeypatch, _sql_cache):
    args = ["metric", "win_rate", *Q1, "--db", db, "--format", "json"]
    cli(*args)
    for f in _sql_cache.glob("*.json"):
        f.write_text("{not json")
    sqlcache.clear_memory()
    assert cli(*args) == uncached(monkeypatch, *args)


def test_the_instant_is_filled_in_when_the_kept_query_runs(db):
    ws = funnelmetrics.open(db, read_only=True)
    try:
        entry = kept_query(ws, "stage_reached", params={"stage": "lead"}, start="2026-01-01",
                           end="2026-03-31")
        assert entry.binds_now and entry.day is None  # only the SQL compares with it
        partial = entry.columns.index("partial")
        # on Feb 10, January is over; February and March are not
        rows = sqlcache.run(ws.con.con, entry, [], dt.datetime(2026, 2, 10, 12))
        assert [r[partial] for r in rows] == [False, True, True]
        rows = sqlcache.run(ws.con.con, entry, [], dt.datetime(2026, 4, 1))
        assert [r[partial] for r in rows] == [False, False, False]
        # with an as-of instant, the instant is part of the request: nothing to fill in
        fixed = kept_query(ws, "stage_reached", params={"stage": "lead"}, start="2026-01-01",
                           end="2026-03-31", as_of="2026-03-15")
        assert not fixed.binds_now
    finally:
        ws.close()


def test_python_that_decided_with_today_keeps_the_query_for_today_only(db):
    ws = funnelmetrics.open(db, read_only=True)
    try:
        # LTV's monthly churn pools the months begun before the instant: Python reads it
        entry = kept_query(ws, "ltv", start="2026-01-01", end="2026-03-31")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert entry.day == [now.date().isoformat(), now.date().isoformat()]  # UTC workspace
        assert entry.valid(now)
        assert not entry.valid(now + dt.timedelta(days=1))
    finally:
        ws.close()


def twice_in_a_process(args: list[str], folder: Path) -> list[subprocess.CompletedProcess]:
    """The command run twice, each in a new Python process keeping queries in `folder`; each
    run's stderr ends with the heavy modules it had loaded."""
    env = {**os.environ, sqlcache.ENV: str(folder)}
    probe = ("import sys\nfrom funnelmetrics.cli import main\nsys.argv = ['funnelmetrics', "
             f"*{args!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('ibis', 'pandas', 'pyarrow', 'sqlglot') "
             "if m in sys.modules), file=sys.stderr)")
    return [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                           text=True, check=True) for _ in range(2)]


def test_a_kept_answer_loads_neither_ibis_nor_pandas(db, _sql_cache):
    runs = twice_in_a_process(["metric", "win_rate", *Q1, "--db", db], _sql_cache)
    assert runs[0].stdout == runs[1].stdout
    assert "Win rate (win_rate, ratio)" in runs[1].stdout
    assert "ibis" in runs[0].stderr  # the first time it is compiled
    assert runs[1].stderr.strip().splitlines()[-1] == "[]"


def test_the_rest_api_answers_a_never_seen_filter_from_its_dimensions_query(
        tmp_path, monkeypatch, _sql_cache):
    """GET /api/v1/metric: the same JSON with the cache off, on first asking and from the kept
    SQL; other segments are slices of one query or reuse the filtered one; a rep sees only
    their rows."""
    from test_web_data import Client, build_workspace

    from funnelmetrics.web.app import create_app

    db = tmp_path / "web.duckdb"
    tokens = build_workspace(db, leads=300)
    url = ("/api/v1/metric/stage_conversion_rate?grain=month&by=source&where=segment={}"
           "&param=from_stage=mql")

    def answers(who: str = "root") -> dict[str, str]:
        client = Client(create_app(db))
        try:
            out = {}
            for value in ("SMB", "MM", "ENT", "nobody"):
                r = client.get(url.format(value), token=tokens[who])
                assert r.status_code == 200, r.text
                out[value] = r.text
            return out
        finally:
            client.close()

    with monkeypatch.context() as m:
        m.setenv(sqlcache.ENV, "off")
        fresh, fresh_rep = answers(), answers("ana")
    assert kept_files(_sql_cache) == 0
    assert answers() == fresh
    # two queries for every segment: the metric split by segment too, whose slices answer
    # the segments it has (`web.service._sliced`), and the filtered one — kept with its value
    # as a placeholder — for the segment no lead has
    assert kept_files(_sql_cache) == 2
    sqlcache.clear_memory()
    assert answers() == fresh  # a server started again: from the file
    assert answers("ana") == fresh_rep != fresh
    assert json.loads(fresh["nobody"])["rows"] == [] or all(
        r["value"] is None for r in json.loads(fresh["nobody"])["rows"])


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_several_metrics_are_kept_one_by_one_and_answered_together(db, monkeypatch, _sql_cache,
                                                                   fmt):
    """`metric a b c` runs in a batch the first time, then keeps each metric's SQL; asked
    again, all three come from kept SQL — the same output to the character (the CSV one table
    with the cohort metric's immature column)."""
    args = ["metric", "win_rate", "stage_conversion_rate", "lead_conversion_rate", "--param",
            "from_stage=mql", *Q1, "--db", db, "--format", fmt]
    fresh = uncached(monkeypatch, *args)
    assert cli(*args) == fresh
    assert kept_files(_sql_cache) == 3
    sqlcache.clear_memory()
    assert cli(*args) == fresh
    assert kept_files(_sql_cache) == 3
    if fmt == "csv":
        header = fresh.splitlines()[0].split(",")
        assert header[-2:] == ["immature", "partial"]
        assert {line.split(",")[0] for line in fresh.splitlines()[1:]} == {
            "win_rate", "stage_conversion_rate", "lead_conversion_rate"}


def test_several_metrics_kept_load_neither_ibis_nor_pandas(db, _sql_cache):
    runs = twice_in_a_process(["metric", "win_rate", "stage_reached", "--param", "stage=sql",
                               *Q1, "--db", db, "--format", "csv"], _sql_cache)
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count("\n") == 7  # 1 + 2 × 3
    assert runs[1].stderr.strip().splitlines()[-1] == "[]"
