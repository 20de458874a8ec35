"""Issue 19, "every row kept, nothing left behind": a partial file updates only the columns it
has (unless --replace-rows), an fx rate must be above 0, and a load cleans up what a crashed
load or upload left (stage tables, upload folders)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app as cli_app
from funnelmetrics.ingest.staging import PREFIX, UPLOAD_PREFIX, remove_dead_uploads

FULL = ("lead_id,created_at,source,rep_id,segment\n"
        "L1,2026-01-05,web,r1,SMB\nL2,2026-01-06,ads,r2,ENT\n")


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _leads(ws: funnelmetrics.Workspace) -> list[tuple]:
    return ws.duckdb.execute("SELECT lead_id, created_at, source, rep_id, segment FROM leads "
                             "ORDER BY lead_id").fetchall()


@pytest.fixture
def ws(tmp_path: Path):
    w = funnelmetrics.open(tmp_path / "w.duckdb")
    w.ingest([_write(tmp_path, "leads.csv", FULL)])
    yield w
    w.close()


def test_a_file_of_lead_id_and_created_at_keeps_rep_and_source(ws, tmp_path: Path) -> None:
    sub = tmp_path / "partial"
    sub.mkdir()
    # L1 moves to 7 Jan; L3 is new (it has no rep or source to keep)
    report = ws.ingest([_write(sub, "leads.csv",
                               "lead_id,created_at\nL1,2026-01-07\nL3,2026-01-08\n")])
    assert report.rejected == 0
    assert _leads(ws) == [
        ("L1", dt.datetime(2026, 1, 7), "web", "r1", "SMB"),  # only created_at changed
        ("L2", dt.datetime(2026, 1, 6), "ads", "r2", "ENT"),  # not in the file: untouched
        ("L3", dt.datetime(2026, 1, 8), None, None, None),
    ]


def test_a_column_the_file_has_is_updated_even_to_empty(ws, tmp_path: Path) -> None:
    sub = tmp_path / "partial"
    sub.mkdir()
    ws.ingest([_write(sub, "leads.csv", "lead_id,created_at,rep_id\nL1,2026-01-05,\n"
                                        "L2,2026-01-06,r9\n")])
    assert _leads(ws) == [("L1", dt.datetime(2026, 1, 5), "web", None, "SMB"),
                          ("L2", dt.datetime(2026, 1, 6), "ads", "r9", "ENT")]


def test_replace_rows_replaces_whole_rows(ws, tmp_path: Path) -> None:
    sub = tmp_path / "partial"
    sub.mkdir()
    ws.ingest([_write(sub, "leads.csv", "lead_id,created_at\nL1,2026-01-07\n")],
              replace_rows=True)
    assert _leads(ws)[0] == ("L1", dt.datetime(2026, 1, 7), None, None, None)


def test_an_extra_attribute_of_an_earlier_load_is_kept(tmp_path: Path) -> None:
    with funnelmetrics.open(tmp_path / "w.duckdb") as w:
        w.ingest([_write(tmp_path, "leads.csv", "lead_id,created_at,tier\nL1,2026-01-05,gold\n")])
        sub = tmp_path / "again"
        sub.mkdir()
        w.ingest([_write(sub, "leads.csv", "lead_id,created_at,source\nL1,2026-01-05,web\n")])
        assert w.duckdb.execute("SELECT source, tier FROM leads").fetchall() == [("web", "gold")]


def test_two_files_with_different_columns_in_one_load(ws, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    ws.ingest([_write(a, "leads.csv", "lead_id,created_at,source\nL1,2026-01-05,seo\n"),
               _write(b, "leads.csv", "lead_id,created_at,rep_id\nL2,2026-01-06,r7\n")])
    assert _leads(ws) == [("L1", dt.datetime(2026, 1, 5), "seo", "r1", "SMB"),
                          ("L2", dt.datetime(2026, 1, 6), "ads", "r7", "ENT")]


def test_cli_replace_rows(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    runner = CliRunner()
    assert runner.invoke(cli_app, ["ingest", str(_write(tmp_path, "leads.csv", FULL)),
                                   "--db", str(db)]).exit_code == 0
    sub = tmp_path / "partial"
    sub.mkdir()
    part = _write(sub, "leads.csv", "lead_id,created_at\nL1,2026-01-07\n")
    assert runner.invoke(cli_app, ["ingest", str(part), "--db", str(db)]).exit_code == 0
    with funnelmetrics.open(db, read_only=True) as w:
        assert _leads(w)[0] == ("L1", dt.datetime(2026, 1, 7), "web", "r1", "SMB")
    result = runner.invoke(cli_app, ["ingest", str(part), "--db", str(db), "--replace-rows"])
    assert result.exit_code == 0, result.output
    with funnelmetrics.open(db, read_only=True) as w:
        assert _leads(w)[0] == ("L1", dt.datetime(2026, 1, 7), None, None, None)


# ---- fx rates above 0 ----------------------------------------------------------------------
def test_an_fx_rate_of_zero_or_below_is_rejected_with_its_reason(tmp_path: Path) -> None:
    with funnelmetrics.open(tmp_path / "w.duckdb") as w:
        report = w.ingest([_write(tmp_path, "fx_rates.csv",
                                  "currency,date,rate_to_reporting\nIDR,2026-01-01,0\n"
                                  "MYR,2026-01-01,-0.2\nEUR,2026-01-01,1.08\n"
                                  "SGD,2026-01-01,0.0000001\n")])
        assert report.rejected == 2
        assert w.duckdb.execute("SELECT currency FROM fx_rates ORDER BY 1").fetchall() == [
            ("EUR",), ("SGD",)]
        assert w.duckdb.execute("SELECT row_number, column_name, reason FROM _quarantine "
                                "ORDER BY row_number").fetchall() == [
            (2, "rate_to_reporting", "rate_to_reporting must be greater than 0"),
            (3, "rate_to_reporting", "rate_to_reporting must be greater than 0")]


# ---- nothing left behind -------------------------------------------------------------------
def test_ingest_drops_stage_tables_a_killed_load_left(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with funnelmetrics.open(db) as w:
        w.ingest([_write(tmp_path, "leads.csv", FULL)])
    # a load killed (-9) after staging: its stage table stays in the file
    killed = subprocess.run(
        [sys.executable, "-c", "import duckdb, os\n"
         f"con = duckdb.connect({str(db)!r})\n"
         f"con.execute('CREATE TABLE {PREFIX}999999_1 AS SELECT * FROM leads')\n"
         "con.execute('CHECKPOINT')\nos.kill(os.getpid(), 9)"], check=False)
    assert killed.returncode != 0
    with funnelmetrics.open(db) as w:
        left = w.duckdb.execute("SELECT count(*) FROM duckdb_tables() WHERE starts_with("
                                f"table_name, '{PREFIX}')").fetchone()[0]
        assert left == 1
        sub = tmp_path / "next"
        sub.mkdir()
        w.ingest([_write(sub, "leads.csv", "lead_id,created_at\nL9,2026-02-01\n")])
        assert w.duckdb.execute("SELECT table_name FROM duckdb_tables() WHERE starts_with("
                                "table_name, '__fm')").fetchall() == []
        assert len(_leads(w)) == 3


def test_ingest_removes_upload_folders_of_a_server_that_is_gone(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs
    dead = Path(tempfile.gettempdir()) / f"{UPLOAD_PREFIX}{gone.pid}-abc"
    alive = Path(tempfile.gettempdir()) / f"{UPLOAD_PREFIX}{os.getpid()}-abc"
    for folder in (dead, alive):
        folder.mkdir(exist_ok=True)
        (folder / "leads.csv").write_text("lead_id,created_at\n")
    try:
        with funnelmetrics.open(tmp_path / "w.duckdb") as w:
            w.ingest([_write(tmp_path, "leads.csv", FULL)])
        assert not dead.exists()
        assert alive.exists()  # this process still runs: its upload may be under way
        assert remove_dead_uploads() == []  # nothing else of a dead server is left
    finally:
        for folder in (dead, alive):
            shutil.rmtree(folder, ignore_errors=True)


# ---- typed files (Parquet) are judged as before, without reading timestamps as text --------
def test_typed_parquet_dates_keep_every_rule(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "opportunities.parquet"
    duckdb.sql("""SELECT * FROM (VALUES
        ('O1', TIMESTAMP '2026-01-05 10:00', 'won', 10.0, DATE '2026-01-05'),
        ('O2', TIMESTAMP '2026-01-05 10:00', 'won', 10.0, DATE '2026-01-04'),
        ('O3', TIMESTAMP '2026-01-05 10:00', 'won', 10.0, DATE '2026-01-06'),
        ('O4', TIMESTAMP '2026-01-05 10:00', 'open', 10.0, NULL::DATE)
    ) t(opportunity_id, created_at, status, amount, closed_at)""").write_parquet(str(path))
    stamped = tmp_path / "more" / "opportunities.parquet"
    stamped.parent.mkdir()
    duckdb.sql("""SELECT * FROM (VALUES
        ('O5', TIMESTAMP '2026-01-05 10:00', 'won', 10.0, TIMESTAMP '2026-01-05 00:00'),
        ('O6', TIMESTAMPTZ '2026-01-05 10:00:00+07', 'won', 10.0, TIMESTAMPTZ '2026-01-06 01:00:00+07')
    ) t(opportunity_id, created_at, status, amount, closed_at)""").write_parquet(str(stamped))
    with funnelmetrics.open(tmp_path / "w.duckdb") as w:
        w.ingest([path, stamped])
        got = dict(w.duckdb.execute("SELECT opportunity_id, closed_at FROM opportunities "
                                    "ORDER BY 1").fetchall())
        reasons = w.duckdb.execute("SELECT row_number, reason FROM _quarantine ORDER BY file, "
                                   "row_number").fetchall()
    # a typed date alone on the creation day is that day (closed as it opened, 10:00)
    assert got["O1"] == dt.datetime(2026, 1, 5, 10)
    assert got["O3"] == dt.datetime(2026, 1, 6)
    # O6: 10:00+07 = 03:00 UTC, closed 01:00+07 = 18:00 UTC the day before … in UTC order
    assert got["O6"] == dt.datetime(2026, 1, 5, 18)
    assert "O2" not in got and "O5" not in got  # closed before created: a typed timestamp at
    assert "O4" in got and got["O4"] is None  # midnight is a time, not a date alone
    assert len(reasons) == 2 and all("before" in r for _, r in reasons)
