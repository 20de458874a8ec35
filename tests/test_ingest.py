"""Validated ingest (SPEC §2 "Bad input"): every bad row is quarantined with file, row, column and
reason; broken files are one-line InputErrors; a load is all-or-nothing and idempotent."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelmetrics
from funnelmetrics.errors import InputError
from funnelmetrics.ingest import RejectedRowsError, load
from funnelmetrics.ingest.readers import choose_delimiter

LEADS = "lead_id,created_at,source\nL1,2026-01-05,web\nL2,2026-01-06T10:00:00+07:00,ads\n"
OPPS_HEADER = "opportunity_id,created_at,status,amount,closed_at,probability\n"


@pytest.fixture
def ws(tmp_path: Path):
    w = funnelmetrics.open(tmp_path / "w.duckdb")
    yield w
    w.close()


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rows(ws, table: str, columns: str = "*") -> list[tuple]:
    return ws.duckdb.execute(f'SELECT {columns} FROM "{table}" ORDER BY ALL').fetchall()


def quarantined(ws) -> list[tuple]:
    return ws.duckdb.execute(
        "SELECT file, table_name, row_number, column_name, reason, value FROM _quarantine "
        "ORDER BY row_number, column_name").fetchall()


# ---- good input ---------------------------------------------------------------------------------
def test_good_rows_are_loaded_typed_and_in_utc(ws, tmp_path):
    report = ws.ingest([write(tmp_path, "leads.csv", LEADS)])
    assert report.to_json() == {"tables": {"leads": {"rows": 2, "accepted": 2, "rejected": 0}},
                                "quarantine": None}
    assert rows(ws, "leads", "lead_id, created_at, source") == [
        ("L1", dt.datetime(2026, 1, 5), "web"),  # a date alone is 00:00 UTC
        ("L2", dt.datetime(2026, 1, 6, 3), "ads"),  # +07:00 converted to UTC
    ]
    assert quarantined(ws) == []


def test_defaults_and_missing_optional_columns(ws, tmp_path):
    write(tmp_path, "d/opportunities.csv", "opportunity_id,created_at,status,amount\n"
          "O1,2026-01-01,open,100\n")
    write(tmp_path, "d/spend.csv", "date,amount,channel\n2026-01-01,50,ads\n")
    write(tmp_path, "d/engagement_events.csv", "account_id,occurred_at,event\nA1,2026-01-01,login\n")
    ws.ingest([tmp_path / "d"])
    assert rows(ws, "opportunities", "contract_months, closed_at, probability") == [(12.0, None, None)]
    assert rows(ws, "spend", "category, campaign_id") == [("marketing", None)]
    assert rows(ws, "engagement_events", "weight") == [(1.0,)]


def test_extra_columns_are_kept_as_text(ws, tmp_path):
    ws.ingest([write(tmp_path, "leads.csv", "lead_id,created_at,Region,score_x\n"
                                            "L1,2026-01-01,EU,5\n")])
    assert rows(ws, "leads", 'lead_id, "Region", score_x') == [("L1", "EU", "5")]
    assert ws.duckdb.execute("SELECT data_type FROM information_schema.columns WHERE "
                             "table_name = 'leads' AND column_name = 'score_x'").fetchone() == \
        ("VARCHAR",)


def test_choices_and_stages_match_case_insensitively(ws, tmp_path):
    write(tmp_path, "d/leads.csv", LEADS)
    write(tmp_path, "d/stage_events.csv", "lead_id,stage,occurred_at\nL1, MQL ,2026-01-07\n")
    write(tmp_path, "d/opportunities.csv", OPPS_HEADER + "O1,2026-01-01,Won,10,2026-02-01,\n")
    report = ws.ingest([tmp_path / "d"])
    assert report.rejected == 0
    assert rows(ws, "stage_events", "stage") == [("mql",)]
    assert rows(ws, "opportunities", "status") == [("won",)]


# ---- bad rows: one test per reason --------------------------------------------------------------
LEADS_FIRST = {"leads.csv": LEADS}
BAD_ROWS = {
    # id: (files, bad file, row, column, code, reason)
    "missing_value": ({"leads.csv": LEADS + "L3,,web\n"}, "leads.csv", 4, "created_at",
                      "missing_value", "created_at is required but empty"),
    "bad_timestamp": ({"leads.csv": LEADS + "L3,2026-13-45,web\n"}, "leads.csv", 4, "created_at",
                      "bad_timestamp", "created_at is not an ISO 8601 date"),
    "not_a_number": ({"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,open,100,,\n"
                      "O2,2026-01-01,open,1.200$,,\n"}, "opportunities.csv", 3, "amount",
                     "not_a_number", "amount is not a number"),
    "negative_amount": ({"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,open,-5,,\n"
                         "O2,2026-01-01,open,7,,\n"}, "opportunities.csv", 2, "amount",
                        "negative_amount", "amount must not be negative"),
    "probability": ({"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,open,5,,0.5\n"
                     "O2,2026-01-01,open,7,,1.5\n"}, "opportunities.csv", 3, "probability",
                    "out_of_range", "probability must be a number between 0 and 1"),
    "score_above_10": ({"survey_responses.csv": "survey_id,respondent_id,answered_at,score\n"
                        "S1,R1,2026-01-01,9\nS1,R2,2026-01-01,11\n"}, "survey_responses.csv", 3,
                       "score", "out_of_range", "score must be an integer from 0 to 10"),
    "score_not_integer": ({"survey_responses.csv": "survey_id,respondent_id,answered_at,score\n"
                           "S1,R1,2026-01-01,7.5\nS1,R2,2026-01-01,0\n"}, "survey_responses.csv",
                          2, "score", "out_of_range", "score must be an integer from 0 to 10"),
    "bad_status": ({"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,pending,5,,\n"
                    "O2,2026-01-01,open,7,,\n"}, "opportunities.csv", 2, "status", "bad_choice",
                   "status must be one of open, won, lost"),
    "bad_category": ({"spend.csv": "date,amount,channel,category\n2026-01-01,5,ads,marketing\n"
                      "2026-01-01,5,ads,travel\n"}, "spend.csv", 3, "category", "bad_choice",
                     "category must be one of marketing, sales"),
    "unknown_stage": ({**LEADS_FIRST, "stage_events.csv": "lead_id,stage,occurred_at\n"
                       "L1,mql,2026-01-07\nL1,demo,2026-01-08\n"}, "stage_events.csv", 3,
                      "stage", "unknown_stage", "stage is not a stage of a configured funnel"),
    "end_before_start": ({"opportunities.csv": OPPS_HEADER + "O1,2026-02-01,won,5,2026-01-01,\n"
                          "O2,2026-01-01,won,7,2026-02-01,\n"}, "opportunities.csv", 2,
                         "closed_at", "end_before_start", "closed_at is before created_at"),
    "subscription_end_before_start": (
        {"subscriptions.csv": "subscription_id,account_id,mrr,started_at,ended_at\n"
         "S1,A1,10,2026-01-01,\nS2,A1,10,2026-03-01,2026-02-01\n"}, "subscriptions.csv", 3,
        "ended_at", "end_before_start", "ended_at is before started_at"),
    "closed_at_required": ({"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,lost,5,,\n"
                            "O2,2026-01-01,open,7,,\n"}, "opportunities.csv", 2, "closed_at",
                           "closed_at_required", "closed_at is required when status is won or lost"),
    "stage_event_unknown_lead": ({**LEADS_FIRST, "stage_events.csv": "lead_id,stage,occurred_at\n"
                                  "L1,mql,2026-01-07\nL9,mql,2026-01-08\n"}, "stage_events.csv", 3,
                                 "lead_id", "unknown_reference",
                                 "lead_id names no lead in this load or the workspace"),
    "touchpoint_unknown_lead": ({**LEADS_FIRST, "touchpoints.csv": "lead_id,occurred_at,channel\n"
                                 "L9,2026-01-01,ads\nL2,2026-01-02,ads\n"}, "touchpoints.csv", 2,
                                "lead_id", "unknown_reference", "lead_id names no lead"),
    "deal_event_unknown_opportunity": (
        {"opportunities.csv": OPPS_HEADER + "O1,2026-01-01,open,5,,\n",
         "deal_stage_events.csv": "opportunity_id,deal_stage,occurred_at\n"
         "O1,Discovery,2026-01-02\nO7,Discovery,2026-01-02\n"}, "deal_stage_events.csv", 3,
        "opportunity_id", "unknown_reference", "opportunity_id names no opportunity"),
}


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_each_bad_row_is_quarantined_with_its_reason(ws, tmp_path, case):
    files, bad_file, row, column, code, reason = BAD_ROWS[case]
    for name, text in files.items():
        write(tmp_path / "d", name, text)
    report = ws.ingest([tmp_path / "d"])
    table = bad_file.split(".")[0]
    assert report.tables[table].rejected == 1
    total = {t: r.rows for t, r in report.tables.items()}
    assert all(r.accepted + r.rejected == r.rows for r in report.tables.values())
    [problem] = report.problems
    assert (Path(problem.file).name, problem.row, problem.column, problem.code) == \
        (bad_file, row, column, code)
    assert problem.reason.startswith(reason)
    [line] = quarantined(ws)
    assert (Path(line[0]).name, line[1], line[2], line[3]) == (bad_file, table, row, column)
    assert line[4] == problem.reason
    # every good row is kept
    for t, n in total.items():
        assert len(rows(ws, t)) == n - (1 if t == table else 0)
    assert report.quarantine.parent == tmp_path / "quarantine"
    assert re.fullmatch(rf"{table}\.\d{{8}}T\d{{12}}\.quarantine\.csv", report.quarantine.name)
    text = report.quarantine.read_text(encoding="utf-8")
    assert problem.reason in text and f",{row}," in text


def test_conflicting_duplicate_keys_reject_every_row_of_the_key(ws, tmp_path):
    report = ws.ingest([write(tmp_path, "leads.csv", LEADS + "L3,2026-01-01,web\n"
                                                            "L3,2026-01-02,web\n")])
    assert report.tables["leads"].rejected == 2
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (4, "lead_id", "duplicate_key"), (5, "lead_id", "duplicate_key")]
    assert report.problems[0].reason == \
        "lead_id appears more than once in this load with different values"
    assert report.problems[0].value == "L3"
    assert rows(ws, "leads", "lead_id") == [("L1",), ("L2",)]


def test_exact_duplicates_are_kept_once_and_not_rejected(ws, tmp_path):
    report = ws.ingest([write(tmp_path, "leads.csv", LEADS + "L1,2026-01-05,web\n")])
    assert report.tables["leads"].to_json() == {"rows": 3, "accepted": 3, "rejected": 0}
    assert rows(ws, "leads", "lead_id") == [("L1",), ("L2",)]


def test_duplicates_across_files_of_one_load_conflict(ws, tmp_path):
    write(tmp_path, "d/leads.2026-01.csv", "lead_id,created_at\nL1,2026-01-01\nL2,2026-01-02\n")
    write(tmp_path, "d/leads.2026-02.csv", "lead_id,created_at\nL1,2026-02-01\n")
    report = ws.ingest([tmp_path / "d"])
    assert report.tables["leads"].to_json() == {"rows": 3, "accepted": 1, "rejected": 2}
    assert sorted((Path(p.file).name, p.row) for p in report.problems) == [
        ("leads.2026-01.csv", 2), ("leads.2026-02.csv", 2)]


def test_null_key_parts_compare_null_safely(ws, tmp_path):
    spend = "date,amount,channel,campaign_id\n2026-01-01,5,ads,\n2026-01-01,6,ads,\n"
    report = ws.ingest([write(tmp_path, "spend.csv", spend)])
    assert report.tables["spend"].rejected == 2
    ws.ingest([write(tmp_path, "spend.csv", "date,amount,channel\n2026-01-01,5,ads\n")])
    ws.ingest([write(tmp_path, "spend.csv", "date,amount,channel\n2026-01-01,9,ads\n")])
    assert rows(ws, "spend", "amount, campaign_id") == [(9.0, None)]  # replaced, not added


def test_a_row_breaking_several_rules_is_one_rejected_row_with_a_line_each(ws, tmp_path):
    report = ws.ingest([write(tmp_path, "opportunities.csv", OPPS_HEADER +
                              "O1,yesterday,won,-5,,2\nO2,2026-01-01,open,7,,\n")])
    assert report.tables["opportunities"].to_json() == {"rows": 2, "accepted": 1, "rejected": 1}
    assert sorted(p.code for p in report.problems) == [
        "bad_timestamp", "closed_at_required", "negative_amount", "out_of_range"]
    assert {p.row for p in report.problems} == {2}
    assert len(quarantined(ws)) == 4


def test_a_stage_event_of_a_rejected_lead_is_rejected(ws, tmp_path):
    write(tmp_path, "d/leads.csv", "lead_id,created_at\nL1,2026-01-01\nL2,never\n")
    write(tmp_path, "d/stage_events.csv", "lead_id,stage,occurred_at\nL1,mql,2026-01-02\n"
          "L2,mql,2026-01-02\n")
    report = ws.ingest([tmp_path / "d"])
    assert [(Path(p.file).name, p.code) for p in report.problems] == [
        ("leads.csv", "bad_timestamp"), ("stage_events.csv", "unknown_reference")]


def test_references_to_rows_loaded_earlier_are_accepted(ws, tmp_path):
    ws.ingest([write(tmp_path, "leads.csv", LEADS)])
    report = ws.ingest([write(tmp_path, "stage_events.csv", "lead_id,stage,occurred_at\n"
                                                            "L2,sql,2026-01-09\n")])
    assert report.rejected == 0


# ---- idempotency, replacement, transactions -----------------------------------------------------
def snapshot(ws) -> dict[str, list[tuple]]:
    """The tables, and the quarantine lines of the latest load."""
    return {t: rows(ws, t) for t in ("leads", "stage_events", "opportunities",
                                     "engagement_events")} | {
        "_quarantine": ws.duckdb.execute("SELECT file, row_number, column_name, reason, value, "
                                         "raw FROM _quarantine WHERE loaded_at = (SELECT "
                                         "max(loaded_at) FROM _quarantine) ORDER BY ALL"
                                         ).fetchall()}


def quarantine_files(directory: Path) -> list[Path]:
    return sorted((directory / "quarantine").glob("*.quarantine.csv"))


def test_loading_twice_is_loading_once(ws, tmp_path):
    write(tmp_path, "d/leads.csv", LEADS + "L3,bad,x\n")
    write(tmp_path, "d/stage_events.csv", "lead_id,stage,occurred_at\nL1,mql,2026-01-07\n"
          "L1,mql,2026-01-07\nL8,sql,2026-01-08\n")
    write(tmp_path, "d/engagement_events.csv", "account_id,occurred_at,event,weight\n"
          "A1,2026-01-01,login,\nA1,2026-01-01,login,\nA1,2026-01-02,login,2\n")
    first = ws.ingest([tmp_path / "d"])
    once = snapshot(ws)
    second = ws.ingest([tmp_path / "d"])
    assert snapshot(ws) == once
    assert {k: v for k, v in second.to_json().items() if k != "quarantine"} == \
        {k: v for k, v in first.to_json().items() if k != "quarantine"}
    # each load keeps its own quarantine files, with the same lines
    before = [f.quarantine for f in first.files if f.quarantine]
    after = [f.quarantine for f in second.files if f.quarantine]
    assert len(before) == 2 and quarantine_files(tmp_path) == sorted(before + after)
    assert [q.read_text() for q in before] == [q.read_text() for q in after]
    assert len(once["engagement_events"]) == 2 and len(once["stage_events"]) == 1


def test_a_newer_row_replaces_the_stored_one(ws, tmp_path):
    ws.ingest([write(tmp_path, "a/leads.csv", LEADS)])
    ws.ingest([write(tmp_path, "b/leads.csv", "lead_id,created_at,source\nL2,2026-02-01,event\n")])
    assert rows(ws, "leads", "lead_id, created_at, source") == [
        ("L1", dt.datetime(2026, 1, 5), "web"), ("L2", dt.datetime(2026, 2, 1), "event")]


def test_reloading_a_fixed_file_keeps_the_earlier_quarantine(ws, tmp_path):
    """Issue 13 item 6: a later load of a file with the same name never overwrites the
    quarantine of an earlier one (file or table lines)."""
    path = write(tmp_path, "leads.csv", LEADS + "L3,bad,x\n")
    first = ws.ingest([path])
    assert len(quarantined(ws)) == 1
    write(tmp_path, "leads.csv", LEADS + "L3,2026-01-09,x\n")
    report = ws.ingest([path])
    assert report.quarantine is None and len(quarantined(ws)) == 1
    assert quarantine_files(tmp_path) == [first.quarantine]
    write(tmp_path, "leads.csv", LEADS + "L3,later,x\n")
    third = ws.ingest([path])
    assert quarantine_files(tmp_path) == sorted([first.quarantine, third.quarantine])
    assert "bad" in first.quarantine.read_text() and "later" in third.quarantine.read_text()
    assert [r[4] for r in quarantined(ws)] == [
        "created_at is not an ISO 8601 date or date-time (e.g. 2026-01-31 or "
        "2026-01-31T14:00:00+07:00)"] * 2
    assert len(rows(ws, "leads")) == 3  # L3 as the second load stored it


def test_a_load_records_the_name_it_is_given_not_a_temporary_path(ws, tmp_path):
    """API uploads are written to a temporary directory; the quarantine names the upload."""
    path = write(tmp_path, "tmp123/leads.csv", LEADS + "L3,bad,x\n")
    report = ws.ingest([path], names={path: "leads.csv"})
    assert [line[0] for line in quarantined(ws)] == ["leads.csv"]
    assert report.problems[0].file == "leads.csv"
    assert report.quarantine.name.startswith("leads.")


def test_a_load_is_all_or_nothing(ws, tmp_path):
    write(tmp_path, "d/leads.csv", LEADS)
    write(tmp_path, "d/stage_events.csv", 'lead_id,stage,occurred_at\nL1,mql,"2026-01-0')
    with pytest.raises(InputError, match="stage_events.csv"):
        ws.ingest([tmp_path / "d"])
    assert rows(ws, "leads") == [] and quarantined(ws) == []
    assert not (tmp_path / "quarantine").exists()


def test_dry_run_writes_nothing(ws, tmp_path):
    report = ws.check([write(tmp_path, "leads.csv", LEADS + "L3,bad,x\n")])
    assert report.dry_run and report.tables["leads"].rejected == 1
    assert report.problems[0].code == "bad_timestamp" and report.quarantine is None
    assert rows(ws, "leads") == [] and quarantined(ws) == []
    assert not (tmp_path / "quarantine").exists()


def test_strict_mode_writes_nothing_when_a_row_is_rejected(ws, tmp_path):
    with pytest.raises(RejectedRowsError, match="1 row") as info:
        ws.ingest([write(tmp_path, "leads.csv", LEADS + "L3,bad,x\n")], strict=True)
    assert info.value.report.tables["leads"].rejected == 1
    assert rows(ws, "leads") == [] and quarantined(ws) == []
    assert ws.ingest([write(tmp_path, "leads.csv", LEADS)], strict=True).rejected == 0


def test_progress_is_reported_per_file(ws, tmp_path):
    seen: list[tuple[str, float]] = []
    ws.ingest([write(tmp_path, "leads.csv", LEADS)],
              progress=lambda f, x: seen.append((f.name, x)))
    assert seen[0] == ("leads.csv", 0.0) and seen[-1] == ("leads.csv", 1.0)


def test_explicit_table_and_quarantine_dir(ws, tmp_path):
    report = load(ws, [write(tmp_path, "export.csv", LEADS + "L3,bad,x\n")], table="leads",
                  quarantine_dir=tmp_path / "q")
    assert report.tables["leads"].accepted == 2
    assert report.quarantine.parent == tmp_path / "q"
    assert report.quarantine.name.startswith("export.")


# ---- formats ------------------------------------------------------------------------------------
def test_semicolon_tab_gzip_and_bom_csv_files_load(ws, tmp_path):
    write(tmp_path, "a/leads.csv", "lead_id;created_at\nL1;2026-01-01\n")
    write(tmp_path, "b/leads.tsv", "lead_id\tcreated_at\nL2\t2026-01-01\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "leads.csv.gz").write_bytes(gzip.compress(b"lead_id,created_at\n"
                                                                b"L3,2026-01-01\n"))
    write(tmp_path, "d/leads.csv", "\ufefflead_id,created_at\r\nL4,2026-01-01\r\n")
    for d in "abcd":
        assert ws.ingest([tmp_path / d]).rejected == 0
    assert rows(ws, "leads", "lead_id") == [("L1",), ("L2",), ("L3",), ("L4",)]


def test_parquet_with_native_types(ws, tmp_path):
    ws.duckdb.execute(
        f"COPY (SELECT * FROM (VALUES ('O1', TIMESTAMPTZ '2026-01-01 10:00:00+07', 'won', 5.5, "
        f"DATE '2026-02-01'), ('O2', TIMESTAMPTZ '2026-01-01', 'won', -1.0, NULL)) "
        f"t(opportunity_id, created_at, status, amount, closed_at)) TO "
        f"'{tmp_path / 'opportunities.parquet'}' (FORMAT parquet)")
    report = ws.ingest([tmp_path / "opportunities.parquet"])
    assert rows(ws, "opportunities", "opportunity_id, created_at, amount, closed_at") == [
        ("O1", dt.datetime(2026, 1, 1, 3), 5.5, dt.datetime(2026, 2, 1))]
    assert sorted((p.row, p.code) for p in report.problems) == [
        (3, "closed_at_required"), (3, "negative_amount")]


def test_json_lines_and_json_arrays(ws, tmp_path):
    write(tmp_path, "a/survey_responses.jsonl",
          '{"survey_id": "S1", "respondent_id": 7, "answered_at": "2026-01-01", "score": 9}\n'
          '{"survey_id": "S1", "respondent_id": 8, "answered_at": "2026-01-01", "score": 12,'
          ' "team": "ops"}\n')
    report = ws.ingest([tmp_path / "a"])
    assert rows(ws, "survey_responses", "respondent_id, score, team") == [("7", 9, None)]
    assert [(p.row, p.column) for p in report.problems] == [(2, "score")]
    write(tmp_path, "b/reps.json", json.dumps([{"rep_id": "R1", "name": "Ayu"}, {"rep_id": "R2"}]))
    assert ws.ingest([tmp_path / "b"]).tables["reps"].accepted == 2


def test_xlsx_rows_are_numbered_like_the_spreadsheet(ws, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["lead_id", "created_at", "employees"])
    sheet.append(["L1", dt.datetime(2026, 1, 5, 9, 30), 10])
    sheet.append([None, None, None])  # a blank row keeps its number
    sheet.append(["L2", "not a date", 3.0])
    book.save(tmp_path / "leads.xlsx")
    report = ws.ingest([tmp_path / "leads.xlsx"])
    assert rows(ws, "leads", "lead_id, created_at, employees") == [
        ("L1", dt.datetime(2026, 1, 5, 9, 30), "10")]
    assert [(p.row, p.column, p.code) for p in report.problems] == [(4, "created_at",
                                                                      "bad_timestamp")]


# ---- broken files -------------------------------------------------------------------------------
def _parquet_bytes(tmp_path: Path) -> bytes:
    import duckdb

    path = tmp_path / "good.parquet"
    duckdb.execute(f"COPY (SELECT 'L1' AS lead_id, TIMESTAMP '2026-01-01' AS created_at) "
                   f"TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


BROKEN = {
    "empty": ("leads.csv", b"", "empty file"),
    "blank": ("leads.csv", b"\n\n  \n", "empty file"),
    "utf16": ("leads.csv", "lead_id,created_at\nL1,2026-01-01\n".encode("utf-16"), "UTF-16"),
    "missing_column": ("leads.csv", b"lead_id,source\nL1,web\n",
                       "missing required column created_at for table leads (the file has: "
                       "lead_id, source)"),
    "space_delimited": ("leads.csv", b"lead_id created_at\nL1 2026-01-01\n",
                        "header was read as one column"),
    "mixed_delimiters": ("leads.csv", b"lead_id;created_at\nL1,2026-01-01\n",
                         "line 2 has 1 fields, the header has 2"),
    "unterminated_quote": ("leads.csv", b'lead_id,created_at\nL1,2026-01-01\nL2,"2026-01',
                           "unterminated quote"),
    "short_last_row": ("leads.csv", b"lead_id,created_at,source\nL1,2026-01-01,web\nL2,2026-0",
                       "line 3 has 2 fields, the header has 3"),
    "truncated_jsonl": ("leads.jsonl", b'{"lead_id": "L1", "created_at": "2026-01-01"}\n'
                                       b'{"lead_id": "L2", "crea', "malformed JSON"),
    "not_objects": ("leads.jsonl", b'{"lead_id": "L1", "created_at": "2026-01-01"}\n[1, 2]\n',
                    "record 2 is not a JSON object"),
    "corrupt_xlsx": ("leads.xlsx", b"PK\x03\x04 this is not a workbook",
                     "not a readable XLSX workbook"),
    "duplicate_header": ("leads.csv", b"lead_id,created_at,lead_id\nL1,2026-01-01,L1\n",
                         "column 'lead_id' appears twice"),
    "unknown_table": ("prospects.csv", b"lead_id,created_at\n", "unknown table 'prospects'"),
    "unsupported": ("leads.txt", b"lead_id,created_at\n", "unsupported file type"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_file_is_a_one_line_error_naming_it(ws, tmp_path, case):
    name, content, message = BROKEN[case]
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as info:
        ws.ingest([path])
    text = str(info.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text
    assert rows(ws, "leads") == []


def test_corrupt_and_truncated_parquet(ws, tmp_path):
    good = _parquet_bytes(tmp_path)
    for name, content in (("a/leads.parquet", good[: len(good) // 2]),
                          ("b/leads.parquet", b"PAR1 garbage")):
        path = write(tmp_path, name, content)
        with pytest.raises(InputError, match="not a readable Parquet file") as info:
            ws.ingest([path])
        assert str(path) in str(info.value)


def test_a_header_only_file_loads_nothing(ws, tmp_path):
    report = ws.ingest([write(tmp_path, "leads.csv", "lead_id,created_at\n")])
    assert report.tables["leads"].to_json() == {"rows": 0, "accepted": 0, "rejected": 0}


def test_missing_paths_and_empty_directories(ws, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        ws.ingest([tmp_path / "nope.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no data files"):
        ws.ingest([tmp_path / "empty"])


def test_delimiter_choice():
    assert choose_delimiter("a,b,c") == ","
    assert choose_delimiter("a;b;c") == ";"
    assert choose_delimiter("a\tb") == "\t"
    assert choose_delimiter('"x;y",b') == ","
    assert choose_delimiter("single") == ","


# ---- properties ---------------------------------------------------------------------------------
ids = st.sampled_from(["L1", "L2", "L3", "", " L4 "])
stamps = st.sampled_from(["2026-01-01", "2026-01-02T03:04:05Z", "2026-01-01 10:00+07:00", "",
                          "31/02/2026", "13/01/2026", "9999-12-31", "soon"])
sources = st.sampled_from(["web", "ads", "", "x,y", 'q"q'])


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"') else value


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ids, stamps, sources), max_size=8))
def test_counts_add_up_and_loading_twice_is_loading_once(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("prop")
    text = "lead_id,created_at,source\n" + "".join(
        ",".join(_csv_field(v) for v in row) + "\n" for row in data)
    path = write(directory, "leads.csv", text)
    with funnelmetrics.open(directory / "w.duckdb") as w:
        first = w.ingest([path])
        table = first.tables["leads"]
        assert table.rows == len(data)
        assert table.accepted + table.rejected == table.rows
        assert {p.row for p in first.problems} <= set(range(2, len(data) + 2))
        assert len({p.row for p in first.problems}) == table.rejected
        once = snapshot(w)
        second = w.ingest([path])
        assert snapshot(w) == once and second.to_json()["tables"] == first.to_json()["tables"]


def test_loaded_tables_keep_the_contract_types(ws, tmp_path):
    """Stage columns (integers parsed as doubles, extras) go back to the contract's types."""
    write(tmp_path, "d/survey_responses.csv", "survey_id,respondent_id,answered_at,score,Team2\n"
          "S1,R1,2026-01-01,9,ops\n")
    write(tmp_path, "d/leads.csv", LEADS)
    ws.ingest([tmp_path / "d"])
    types = dict(ws.duckdb.execute("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'survey_responses'").fetchall())
    assert types == {"survey_id": "VARCHAR", "respondent_id": "VARCHAR",
                     "answered_at": "TIMESTAMP", "score": "BIGINT", "team": "VARCHAR",
                     "Team2": "VARCHAR"}
    assert [r[0] for r in ws.duckdb.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_name LIKE '__fm%'").fetchall()] == []
    ws.ingest([write(tmp_path, "e/survey_responses.csv", "survey_id,respondent_id,answered_at,"
                                                         "score\nS1,R2,2026-01-02,3\n")])
    assert rows(ws, "survey_responses", "respondent_id, score, Team2") == [
        ("R1", 9, "ops"), ("R2", 3, None)]


def test_progress_of_a_big_file_is_polled_from_duckdb(ws, tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("funnelmetrics.ingest.staging"),
                        "PROGRESS_MIN_BYTES", 0)
    path = tmp_path / "leads.csv"
    ws.duckdb.execute(f"COPY (SELECT 'L' || i AS lead_id, DATE '2026-01-01' + (i % 300)::INT "
                      f"AS created_at FROM range(300000) t(i)) TO '{path}' (HEADER)")
    seen: list[float] = []
    report = ws.ingest([path], progress=lambda f, x: seen.append(x))
    assert report.tables["leads"].accepted == 300_000
    assert seen[0] == 0.0 and seen[-1] == 1.0 and all(0 <= x <= 1 for x in seen)


def test_a_failure_inside_the_transaction_writes_nothing(ws, tmp_path):
    blocker = write(tmp_path, "q", "a file where the quarantine directory should be")
    write(tmp_path, "d/leads.csv", LEADS + "L3,bad,x\n")
    with pytest.raises(InputError, match="cannot write the quarantine file"):
        load(ws, [tmp_path / "d"], quarantine_dir=blocker)
    assert rows(ws, "leads") == [] and quarantined(ws) == []
    assert ws.duckdb.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE "
                             "'\\_\\_fm%' ESCAPE '\\'").fetchone() == (0,)
    assert ws.ingest([tmp_path / "d"]).tables["leads"].accepted == 2


def test_stage_tables_left_by_a_crashed_load_are_dropped(ws, tmp_path):
    ws.duckdb.execute("CREATE TABLE __fm_stage_1_1 (x INT)")
    ws.ingest([write(tmp_path, "leads.csv", LEADS)])
    assert not ws.has_table("__fm_stage_1_1")


def test_a_dry_run_sees_rows_accepted_earlier_in_the_same_load(ws, tmp_path):
    write(tmp_path, "d/leads.csv", LEADS)
    write(tmp_path, "d/stage_events.csv", "lead_id,stage,occurred_at\nL1,mql,2026-01-07\n"
          "L9,mql,2026-01-07\n")
    report = ws.check([tmp_path / "d"])
    assert report.tables["stage_events"].to_json() == {"rows": 2, "accepted": 1, "rejected": 1}
    assert rows(ws, "leads") == [] and rows(ws, "stage_events") == []


def test_keyless_rows_are_identified_by_all_their_values(ws, tmp_path):
    """engagement_events has no key: a copy (same file or another) is kept once, while rows
    differing in any value, extra attributes included, are all kept."""
    write(tmp_path, "d/engagement_events.csv", "account_id,occurred_at,event,plan\n"
          "A1,2026-01-01,login,pro\nA1,2026-01-01,login,pro\nA1,2026-01-01,login,free\n")
    write(tmp_path, "d/engagement_events.more.csv", "account_id,occurred_at,event\n"
          "A1,2026-01-01,login\nA2,2026-01-01,login\nA2,2026-01-01,login\n")
    report = ws.ingest([tmp_path / "d"])
    assert report.tables["engagement_events"].to_json() == {"rows": 6, "accepted": 6,
                                                            "rejected": 0}
    assert rows(ws, "engagement_events", "account_id, plan") == [
        ("A1", "free"), ("A1", "pro"), ("A1", None), ("A2", None)]
