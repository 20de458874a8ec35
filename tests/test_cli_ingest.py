"""`funnelmetrics init / ingest / check` in process (SPEC §5: JSON contract, exit codes, one-line
errors)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app

GOOD = "lead_id,created_at,source\nL1,2026-01-05,web\nL2,2026-01-06,ads\n"
BAD = GOOD + "L3,someday,web\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def data(tmp_path: Path, text: str, name: str = "leads.csv") -> Path:
    directory = tmp_path / "data"
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def lead_ids(db: Path) -> list[str]:
    with funnelmetrics.open(db) as ws:
        return [r[0] for r in ws.duckdb.execute("SELECT lead_id FROM leads ORDER BY 1").fetchall()]


def test_ingest_json_is_the_spec_object_on_one_line(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(data(tmp_path, BAD)), "--db", str(db),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    [quarantine] = (tmp_path / "quarantine").glob("leads.*.quarantine.csv")
    assert obj == {"tables": {"leads": {"rows": 3, "accepted": 2, "rejected": 1}},
                   "quarantine": str(quarantine)}
    assert lead_ids(db) == ["L1", "L2"]


def test_ingest_without_rejections_reports_null_quarantine(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(data(tmp_path, GOOD) / "leads.csv"), "--db",
                                 str(db), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["quarantine"] is None


def test_ingest_creates_the_workspace_and_its_settings(runner, tmp_path):
    db = tmp_path / "new" / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(data(tmp_path, GOOD)), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.exists() and (db.parent / "funnelmetrics.toml").exists()
    assert "Every row was accepted" in result.stdout


def test_table_output_says_how_many_were_rejected_and_where(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(data(tmp_path, BAD)), "--db", str(db)],
                           terminal_width=200)
    assert result.exit_code == 0
    assert "1 row(s) rejected" in result.stdout
    assert ".quarantine.csv" in result.stdout
    assert "created_at is not an ISO 8601" in result.stdout


def test_csv_output_has_a_line_per_file(runner, tmp_path):
    result = runner.invoke(app, ["ingest", str(data(tmp_path, BAD)), "--db",
                                 str(tmp_path / "w.duckdb"), "--format", "csv"])
    header, line = result.stdout.strip().splitlines()
    assert header == "file,table,rows,accepted,rejected,quarantine"
    assert line.split(",")[1:5] == ["leads", "3", "2", "1"]


def test_strict_exits_1_and_loads_nothing(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(data(tmp_path, BAD)), "--db", str(db),
                                 "--strict", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout.strip())["tables"]["leads"]["rejected"] == 1
    assert "strict" in result.stderr and "Traceback" not in result.output
    assert lead_ids(db) == []


def test_check_writes_nothing(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["check", str(data(tmp_path, BAD)), "--db", str(db),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"]["leads"] == {"rows": 3, "accepted": 2,
                                                            "rejected": 1}
    assert not db.exists() and not (tmp_path / "quarantine").exists()
    table = runner.invoke(app, ["check", str(data(tmp_path, BAD)), "--db", str(db)],
                          terminal_width=200)
    assert "would be rejected" in table.stdout and "someday" in table.stdout


def test_check_against_an_existing_workspace_sees_its_leads(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    runner.invoke(app, ["ingest", str(data(tmp_path, GOOD)), "--db", str(db)])
    events = tmp_path / "events"
    events.mkdir()
    (events / "stage_events.csv").write_text("lead_id,stage,occurred_at\nL1,mql,2026-01-07\n"
                                             "L9,mql,2026-01-07\n")
    result = runner.invoke(app, ["check", str(events), "--db", str(db), "--format", "json"])
    assert json.loads(result.stdout)["tables"]["stage_events"]["rejected"] == 1
    with funnelmetrics.open(db) as ws:
        assert ws.duckdb.execute("SELECT count(*) FROM stage_events").fetchone() == (0,)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("leads.csv", b"lead_id;created_at\nL1,2026-01-01\n", "fields"),
    ("leads.csv", "lead_id,created_at\nL1,2026-01-01\n".encode("utf-16"), "UTF-16"),
    ("leads.csv", b"lead_id,created_at\nL1,01/02/2026\n", "--date-format"),
    ("leads.csv", b"lead_id,created_at\nL1,\"2026", "unterminated quote"),
    ("leads.csv", b"lead_id,source\nL1,web\n", "missing required column created_at"),
    ("leads.csv", b"", "empty file"),
    ("leads.parquet", b"PAR1 not parquet", "not a readable Parquet file"),
    ("nonsense.csv", b"a,b\n", "unknown table"),
])
@pytest.mark.parametrize("command", ["ingest", "check"])
def test_a_broken_file_is_a_one_line_error(runner, tmp_path, command, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, [command, str(path), "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and message in lines[0]


def test_init_creates_tables_and_settings(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["init", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "funnelmetrics.toml").exists()
    with funnelmetrics.open(db) as ws:
        assert ws.has_table("leads") and ws.has_table("_quarantine")
    again = runner.invoke(app, ["init", "--db", str(db)])
    assert again.exit_code == 0 and "already" in again.stdout


@pytest.mark.parametrize("command", ["ingest", "check"])
def test_date_format_decimal_and_encoding_options(runner, tmp_path, command):
    path = tmp_path / "opportunities.csv"
    path.write_bytes("opportunity_id;created_at;status;amount;name\n"
                     "O1;03/04/2026;open;1.234,50;Caf\u00e9\n".encode("cp1252"))
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, [command, str(path), "--db", str(db), "--date-format",
                                 "DD/MM/YYYY", "--decimal", ",", "--encoding", "cp1252",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"]["opportunities"]["rejected"] == 0
    if command == "ingest":
        with funnelmetrics.open(db) as ws:
            assert ws.duckdb.execute("SELECT created_at, amount, name FROM opportunities"
                                     ).fetchall() == [(dt.datetime(2026, 4, 3), 1234.5,
                                                       "Caf\u00e9")]
    bad = runner.invoke(app, [command, str(path), "--db", str(db), "--decimal", ";"])
    assert bad.exit_code != 0 and "--decimal" in bad.output


def test_a_header_with_a_lone_carriage_return_is_one_line(tmp_path):
    """The csv module refuses a CR inside an unquoted header name: the file's error, named."""
    path = tmp_path / "leads.csv"
    path.write_bytes(b"lead_id,crea\rted_at\nL1,2026-01-05\n")
    result = CliRunner().invoke(app, ["check", str(path), "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "line 1 (the header)" in result.output and "leads.csv" in result.output
