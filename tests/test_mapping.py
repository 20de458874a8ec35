"""Mapping files (`--map`), workspace CRM facts (`[crm]`), `--replace-missing` and the CLI of
presets (issue 13 items 2 and 5), on the hand-made exports in tests/fixtures/crm."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.config import Config
from funnelmetrics.errors import InputError
from funnelmetrics.ingest.presets import PRESETS

CRM = Path(__file__).parent / "fixtures" / "crm"
MAP = CRM / "crm-deals-id.toml"
T = dt.datetime
runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path):
    w = funnelmetrics.open(tmp_path / "w.duckdb", config=Config(currency="IDR"))
    w.init()
    yield w
    w.close()


def rows(ws, sql: str) -> list[tuple]:
    return ws.duckdb.execute(sql).fetchall()


def test_mapping_file_dates_numbers_zone_and_values(ws) -> None:
    report = ws.ingest([CRM / "crm-deals-id.csv"], mapping=MAP)
    assert report.files[0].via == "mapping crm-deals-id.toml"
    # D3 closed at 06:00 on the day it was created at 08:00 (times given): rejected
    assert report.to_json()["tables"] == {"opportunities": {"rows": 4, "accepted": 3,
                                                            "rejected": 1}}
    assert [(p.row, p.code) for p in report.problems] == [(4, "end_before_start")]
    # DD/MM/YYYY in Jakarta time (UTC+7): 05/01/2026 09:00 is 5 January 02:00 UTC;
    # 1.234.567,00 is 1234567; Menang/Terbuka mapped, the stage kept as written; currency IDR
    assert rows(ws, "SELECT opportunity_id, created_at, closed_at, status, amount, deal_stage, "
                    "currency FROM opportunities ORDER BY 1") == [
        ("D1", T(2026, 1, 5, 2), T(2026, 1, 20, 7), "won", 1234567.0, "Selesai", "IDR"),
        ("D2", T(2026, 1, 3, 3), None, "open", 2000000.5, "Negosiasi", "IDR"),
        ("D4", T(2026, 1, 13, 4), None, "open", None, "Prospek", "IDR")]
    assert rows(ws, 'SELECT "Nama" FROM opportunities WHERE opportunity_id = \'D1\'') == [
        ("Toko Maju",)]


def test_flags_win_over_the_mapping(ws, tmp_path: Path) -> None:
    us = tmp_path / "deals.csv"
    us.write_text("No. Deal,Tanggal Dibuat,Status,Nilai\nX1,01/02/2026 10:00,Terbuka,\"5,00\"\n",
                  encoding="utf-8")
    ws.ingest([us], mapping=MAP, date_format="MM/DD/YYYY")
    # 01/02/2026 as month/day: 2 January 10:00 Jakarta = 03:00 UTC; 5,00 still decimal comma
    assert rows(ws, "SELECT created_at, amount FROM opportunities") == [(T(2026, 1, 2, 3), 5.0)]


def test_replace_missing_removes_what_the_newer_export_lacks(ws) -> None:
    ws.ingest([CRM / "crm-deals-id.csv"], mapping=MAP)
    report = ws.ingest([CRM / "crm-deals-id-newer.csv"], mapping=MAP, replace_missing=True)
    # stored D1, D2, D4; the newer export has D1 and D4 (with an amount now): D2 removed
    assert report.removed == {"opportunities": 1}
    assert report.to_json()["tables"]["opportunities"]["removed"] == 1
    assert rows(ws, "SELECT opportunity_id, amount, deal_stage FROM opportunities ORDER BY 1"
                ) == [("D1", 1234567.0, "Selesai"), ("D4", 750000.0, "Negosiasi")]


def test_without_replace_missing_nothing_is_removed(ws) -> None:
    ws.ingest([CRM / "crm-deals-id.csv"], mapping=MAP)
    report = ws.ingest([CRM / "crm-deals-id-newer.csv"], mapping=MAP)
    assert report.removed == {}
    assert rows(ws, "SELECT count(*) FROM opportunities") == [(3,)]


def test_replace_missing_removes_events_of_removed_deals(ws) -> None:
    ws.ingest([CRM / "salesforce-opportunities-es.csv",
               CRM / "salesforce-opportunity-history.csv"])
    newer = ws.directory / "Opportunity.csv"
    lines = (CRM / "salesforce-opportunities-es.csv").read_bytes().split(b"\n")
    newer.write_bytes(b"\n".join(line for line in lines if b'"006O2"' not in line))
    report = ws.ingest([newer], replace_missing=True)
    # 006O2 is gone from the CRM: the deal and its two stage events (H5, H6) are removed
    assert report.removed == {"opportunities": 1, "deal_stage_events": 2}
    assert rows(ws, "SELECT count(*) FROM deal_stage_events WHERE opportunity_id = '006O2'"
                ) == [(0,)]
    assert rows(ws, "SELECT count(*) FROM deal_stage_events") == [(4,)]


def test_a_dry_run_with_replace_missing_changes_nothing(ws) -> None:
    ws.ingest([CRM / "crm-deals-id.csv"], mapping=MAP)
    ws.ingest([CRM / "crm-deals-id-newer.csv"], mapping=MAP, replace_missing=True, dry_run=True)
    assert rows(ws, "SELECT count(*) FROM opportunities") == [(3,)]


@pytest.mark.parametrize(("text", "message"), [
    ('table = "deals"\n', "table 'deals' is not a table"),
    ('table = "opportunities"\n[columns]\nvalue = "Nilai"\n', "'value' is not a column"),
    ('table = "opportunities"\ntimezone = "Mars/Base"\n', "unknown time zone"),
    ('table = "opportunities"\ndate_format = "whenever"\n', "date-format 'whenever'"),
    ('table = "opportunities"\nsheet = 2\n', "unknown key 'sheet'"),
    ('table = "opportunities"\n[columns]\nstatus = "Status"\n', "no column for opportunity_id"),
    ("table = \n", "not valid TOML"),
    ('table = "opportunities"\n[values.status]\nMenang = "won"\n', r"\[values.status\] needs"),
])
def test_a_wrong_mapping_file_is_one_line(ws, tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        ws.ingest([CRM / "crm-deals-id.csv"], mapping=bad)


def test_workspace_crm_facts_from_funnelmetrics_toml(tmp_path: Path) -> None:
    (tmp_path / "funnelmetrics.toml").write_text(
        'currency = "GBP"\n[crm]\ntimezone = "Europe/London"\ncurrency = "GBP"\n'
        '[crm.deal_stages]\n"Closed: abandoned" = "lost"\n', encoding="utf-8")
    ws = funnelmetrics.open(tmp_path / "w.duckdb")
    ws.init()
    ws.ingest([CRM / "hubspot-deals-view.csv"])
    # London is on GMT in January: the same clock time; abandoned is lost; GBP from [crm]
    assert rows(ws, "SELECT status, closed_at, currency FROM opportunities "
                    "WHERE opportunity_id = '304'") == [("lost", T(2026, 1, 30, 12), "GBP")]
    ws.close()


def test_every_preset_ships_a_mapping_that_parses() -> None:
    from funnelmetrics.ingest.mapping import read_mapping

    for preset in PRESETS.values():
        mapping = read_mapping(preset.path)
        assert mapping.table == preset.tables[0], preset.name
        assert preset.description


# ---- CLI ----------------------------------------------------------------------------------------
def test_cli_presets_lists_and_shows() -> None:
    listed = runner.invoke(app, ["presets"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    for name in PRESETS:
        assert name in listed.output
    shown = runner.invoke(app, ["presets", "--show", "hubspot-deals"])
    assert shown.exit_code == 0
    assert shown.output == (PRESETS["hubspot-deals"].path.read_text(encoding="utf-8"))
    wrong = runner.invoke(app, ["presets", "--show", "zoho"])
    assert wrong.exit_code == 1
    assert "unknown preset 'zoho'" in wrong.output
    assert "Traceback" not in wrong.output


def test_cli_check_says_how_it_reads_and_previews(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(CRM / "hubspot-deals-view.csv"), "--db",
                                 str(tmp_path / "none.duckdb")], terminal_width=250)
    assert result.exit_code == 0, result.output
    assert "preset hubspot-deals" in result.output
    assert "first rows" in result.output
    assert "Closed: won" in result.output  # a canonical row's deal_stage
    assert not (tmp_path / "none.duckdb").exists()


def test_cli_ingest_with_map_and_replace_missing(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    first = runner.invoke(app, ["ingest", str(CRM / "crm-deals-id.csv"), "--map", str(MAP),
                                "--db", db, "--format", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["tables"]["opportunities"] == {
        "rows": 4, "accepted": 3, "rejected": 1}
    second = runner.invoke(app, ["ingest", str(CRM / "crm-deals-id-newer.csv"), "--map",
                                 str(MAP), "--replace-missing", "--db", db, "--format", "json"])
    assert json.loads(second.stdout)["tables"]["opportunities"] == {
        "rows": 2, "accepted": 2, "rejected": 0, "removed": 1}


def test_cli_missing_mapping_file_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(CRM / "crm-deals-id.csv"), "--map",
                                 str(tmp_path / "nope.toml"), "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 1
    assert "no such mapping file" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("settings", [{"timezone": "Mars/Base"},
                                      {"crm": {"timezone": "Mars/Base"}}])
def test_workspace_and_crm_time_zones_are_checked_alike(settings):
    import pydantic

    with pytest.raises(pydantic.ValidationError,
                       match="unknown time zone 'Mars/Base' \\(use an IANA name such as "
                             "'Asia/Jakarta'\\)"):
        funnelmetrics.Config(**settings)
    assert funnelmetrics.Config(timezone="Asia/Jakarta", crm={"timezone": "Asia/Jakarta"}) \
        .crm.timezone == "Asia/Jakarta"
