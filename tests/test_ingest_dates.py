"""Dates and numbers are never misread (issue 13 item 3): slash dates only in a known order,
implausible years and placeholders rejected with their reason, offsets within ±14:00, decimal
commas and thousands separators on request, encodings detected, control characters never stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import funnelmetrics
from funnelmetrics.errors import InputError

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "crm-exports"


@pytest.fixture
def ws(tmp_path: Path):
    w = funnelmetrics.open(tmp_path / "w.duckdb")
    yield w
    w.close()


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def stored(ws, sql: str) -> list[tuple]:
    return ws.duckdb.execute(sql).fetchall()


def problems(report) -> list[tuple]:
    return [(p.row, p.column, p.code) for p in report.problems]


# ---- slash dates --------------------------------------------------------------------------------
def test_month_day_two_digit_years_are_inferred_not_read_as_year_0001(ws, tmp_path):
    """`1/2/23 12:15` was stored as 0001-02-23; 12/25/25 proves month/day/year."""
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,1/2/23 12:15\nL2,12/25/25 20:18\n")
    assert ws.ingest([path]).rejected == 0
    assert stored(ws, "SELECT lead_id, created_at FROM leads ORDER BY 1") == [
        ("L1", dt.datetime(2023, 1, 2, 12, 15)), ("L2", dt.datetime(2025, 12, 25, 20, 18))]


def test_day_month_four_digit_years_are_inferred(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,03/04/2026\nL2,31/01/2026\n")
    assert ws.ingest([path]).rejected == 0
    assert stored(ws, "SELECT created_at FROM leads ORDER BY lead_id") == [
        (dt.datetime(2026, 4, 3),), (dt.datetime(2026, 1, 31),)]


def test_an_ambiguous_column_is_refused_naming_file_column_and_example(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,2026-01-05\nL2,03/04/2026\n"
                                        "L3,05/06/2026\n")
    with pytest.raises(InputError) as info:
        ws.ingest([path])
    text = str(info.value)
    assert text.startswith(str(path)) and "'created_at'" in text and "'03/04/2026'" in text
    assert "--date-format" in text and "\n" not in text
    assert stored(ws, "SELECT * FROM leads") == []
    with pytest.raises(InputError, match="--date-format"):
        ws.check([path])


def test_a_column_mixing_both_orders_is_refused(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,13/01/2026\nL2,01/13/2026\n")
    with pytest.raises(InputError, match="mixes"):
        ws.ingest([path])


@pytest.mark.parametrize(("given", "expected"), [
    ("DD/MM/YYYY", dt.datetime(2026, 4, 3)), ("MM/DD/YYYY", dt.datetime(2026, 3, 4)),
    ("%d/%m/%Y", dt.datetime(2026, 4, 3)), ("MDY", dt.datetime(2026, 3, 4))])
def test_date_format_given_decides(ws, tmp_path, given, expected):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,03/04/2026\n")
    assert ws.ingest([path], date_format=given).rejected == 0
    assert stored(ws, "SELECT created_at FROM leads") == [(expected,)]


def test_a_date_format_that_does_not_fit_rejects_the_row(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,03/04/2026\nL2,13/04/2026\n")
    report = ws.ingest([path], date_format="MM/DD/YYYY")
    assert problems(report) == [(3, "created_at", "bad_timestamp")]


def test_a_wrong_date_format_option_is_an_error(ws, tmp_path):
    with pytest.raises(InputError, match="--date-format 'YYYY'"):
        ws.ingest([write(tmp_path, "leads.csv", "lead_id,created_at\n")], date_format="YYYY")


def test_year_first_slash_dates_and_am_pm_times(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,2026/01/31\n"
                                        "L2,1/31/2026 1:05 PM\n")
    assert ws.ingest([path]).rejected == 0
    assert stored(ws, "SELECT created_at FROM leads ORDER BY lead_id") == [
        (dt.datetime(2026, 1, 31),), (dt.datetime(2026, 1, 31, 13, 5),)]


# ---- plausible years, placeholders, offsets -----------------------------------------------------
@pytest.mark.parametrize(("value", "code"), [
    ("9999-12-31", "placeholder_date"), ("0001-01-01", "placeholder_date"),
    ("0001-02-23", "implausible_date"), ("-2026-01-01", "implausible_date"),
    ("2101-01-01", "implausible_date"), ("13/2/0023", "implausible_date"),
    ("2026-01-01T10:00:00+14:30", "bad_offset"), ("2026-01-01T10:00:00+99:00", "bad_offset"),
    ("2026-01-01 10:00:00-15", "bad_offset")])
def test_implausible_dates_are_rejected_with_their_reason(ws, tmp_path, value, code):
    path = write(tmp_path, "leads.csv", f"lead_id,created_at\nL0,2026-01-01\nL1,{value}\n")
    report = ws.ingest([path])
    assert problems(report) == [(3, "created_at", code)]
    [line] = stored(ws, "SELECT file, row_number, column_name, reason, value FROM _quarantine")
    assert line[:3] == (str(path.resolve()), 3, "created_at") and line[4] == value
    assert stored(ws, "SELECT lead_id FROM leads") == [("L0",)]


def test_offsets_up_to_14_hours_are_applied(ws, tmp_path):
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,2026-01-01T10:00:00+14:00\n"
                                        "L2,2026-01-01T10:00:00-12:00\n")
    assert ws.ingest([path]).rejected == 0
    assert stored(ws, "SELECT created_at FROM leads ORDER BY lead_id") == [
        (dt.datetime(2025, 12, 31, 20),), (dt.datetime(2026, 1, 1, 22),)]


def test_the_year_window_is_configurable(tmp_path):
    (tmp_path / "funnelmetrics.toml").write_text("[ingest]\nmin_year = 2000\nmax_year = 2030\n")
    path = write(tmp_path, "leads.csv", "lead_id,created_at\nL1,1999-12-31\nL2,2030-12-31\n")
    with funnelmetrics.open(tmp_path / "w.duckdb") as w:
        report = w.ingest([path])
    assert problems(report) == [(2, "created_at", "implausible_date")]
    assert "2000–2030" in report.problems[0].reason


OPPS = "opportunity_id,created_at,status,amount,closed_at\n"


def test_a_placeholder_close_date_is_rejected_by_default(ws, tmp_path):
    path = write(tmp_path, "opportunities.csv", OPPS + "O1,2026-01-01,open,5,9999-12-31\n")
    report = ws.ingest([path])
    assert problems(report) == [(2, "closed_at", "placeholder_date")]
    assert "no date" in report.problems[0].reason


def test_a_placeholder_end_date_can_mean_no_date(tmp_path):
    (tmp_path / "funnelmetrics.toml").write_text('[ingest]\nplaceholder_end_dates = "no date"\n')
    write(tmp_path, "d/opportunities.csv", OPPS + "O1,2026-01-01,open,5,9999-12-31\n"
                                                  "O2,2026-01-01,won,5,9999-12-31\n")
    write(tmp_path, "d/subscriptions.csv", "subscription_id,account_id,mrr,started_at,ended_at\n"
                                           "S1,A1,10,2026-01-01,9999-12-31 23:59:59\n")
    with funnelmetrics.open(tmp_path / "w.duckdb") as w:
        report = w.ingest([tmp_path / "d"])
        assert problems(report) == [(3, "closed_at", "closed_at_required")]
        assert stored(w, "SELECT opportunity_id, closed_at FROM opportunities") == [("O1", None)]
        assert stored(w, "SELECT ended_at FROM subscriptions") == [(None,)]


def test_a_date_only_close_on_the_creation_day_is_that_day(ws, tmp_path):
    path = write(tmp_path, "opportunities.csv", OPPS + "O1,2026-01-05 14:00,won,5,2026-01-05\n"
                                                       "O2,2026-01-05 14:00,won,5,2026-01-04\n"
                                                       "O3,2026-01-05 14:00,won,5,"
                                                       "2026-01-05 09:00\n")
    report = ws.ingest([path])
    assert problems(report) == [(3, "closed_at", "end_before_start"),
                                (4, "closed_at", "end_before_start")]
    assert report.problems[0].reason == "closed_at is before created_at"
    assert stored(ws, "SELECT opportunity_id, created_at, closed_at FROM opportunities") == [
        ("O1", dt.datetime(2026, 1, 5, 14), dt.datetime(2026, 1, 5, 14))]


# ---- numbers ------------------------------------------------------------------------------------
def test_decimal_comma_with_thousands_separators(ws, tmp_path):
    path = write(tmp_path, "opportunities.csv", "opportunity_id;created_at;status;amount\n"
                 "O1;2026-01-01;open;1.234.567,00\nO2;2026-01-01;open;12,5\n"
                 "O3;2026-01-01;open;1 234,5\nO4;2026-01-01;open;1.5\n")
    report = ws.ingest([path], decimal=",")
    assert problems(report) == [(5, "amount", "not_a_number")]  # 1.5 is not 1.234-grouped
    assert stored(ws, "SELECT opportunity_id, amount FROM opportunities ORDER BY 1") == [
        ("O1", 1234567.0), ("O2", 12.5), ("O3", 1234.5)]


def test_decimal_point_with_thousands_separators(ws, tmp_path):
    path = write(tmp_path, "opportunities.csv", OPPS.replace(",closed_at", "") +
                 'O1,2026-01-01,open,"1,234,567.00"\nO2,2026-01-01,open,7.5\n'
                 'O3,2026-01-01,open,"1,23"\n')
    report = ws.ingest([path], decimal=".")
    assert problems(report) == [(4, "amount", "not_a_number")]
    assert stored(ws, "SELECT amount FROM opportunities ORDER BY 1") == [(7.5,), (1234567.0,)]


def test_without_decimal_a_thousands_separator_is_not_guessed(ws, tmp_path):
    path = write(tmp_path, "opportunities.csv", OPPS.replace(",closed_at", "") +
                 'O1,2026-01-01,open,"1,234"\n')
    assert problems(ws.ingest([path])) == [(2, "amount", "not_a_number")]


# ---- encodings and control characters -----------------------------------------------------------
def test_windows_1252_is_detected(ws, tmp_path):
    text = "lead_id,created_at,pa\u00eds,note\nL1,2026-01-01,M\u00e9xico,\u20ac5 \u201cok\u201d\n"
    ws.ingest([write(tmp_path, "leads.csv", text.encode("cp1252"))])
    assert stored(ws, 'SELECT "pa\u00eds", note FROM leads') == [
        ("M\u00e9xico", "\u20ac5 \u201cok\u201d")]


def test_windows_1252_late_in_a_big_file_is_detected(ws, tmp_path):
    rows = "".join(f"L{i},2026-01-01,web\n" for i in range(60_000))
    path = write(tmp_path, "leads.csv", ("lead_id,created_at,source\n" + rows +
                                         "L\u00e9,2026-01-01,caf\u00e9\n").encode("cp1252"))
    assert ws.ingest([path]).tables["leads"].accepted == 60_001
    assert stored(ws, "SELECT source FROM leads WHERE lead_id = 'L\u00e9'") == [("caf\u00e9",)]


def test_utf8_bom_and_a_given_encoding(ws, tmp_path):
    write(tmp_path, "a/leads.csv", "\ufefflead_id,created_at,name\nL1,2026-01-01,Jos\u00e9\n")
    write(tmp_path, "b/leads.csv", "lead_id,created_at,name\nL2,2026-01-01,Jos\u00e9\n"
          .encode("utf-16"))
    write(tmp_path, "c/leads.csv", "lead_id,created_at,name\nL3,2026-01-01,\u0141\u00f3d\u017a\n"
          .encode("iso-8859-2"))
    ws.ingest([tmp_path / "a"])
    ws.ingest([tmp_path / "b"], encoding="utf-16")
    ws.ingest([tmp_path / "c"], encoding="iso-8859-2")
    assert stored(ws, "SELECT lead_id, name FROM leads ORDER BY 1") == [
        ("L1", "Jos\u00e9"), ("L2", "Jos\u00e9"), ("L3", "\u0141\u00f3d\u017a")]
    with pytest.raises(InputError, match="unknown encoding"):
        ws.ingest([tmp_path / "a"], encoding="klingon")


def test_control_characters_are_removed_from_text_and_rejected_in_ids(ws, tmp_path):
    path = write(tmp_path, "leads.csv", b"lead_id,created_at,source,note\n"
                                        b"L1,2026-01-01,we\x00b,a\x01b\tc\n"
                                        b"L\x002,2026-01-01,web,x\n")
    report = ws.ingest([path])
    assert problems(report) == [(3, "lead_id", "control_character")]
    assert stored(ws, "SELECT lead_id, source, note FROM leads") == [("L1", "web", "ab\tc")]
    [(value, raw)] = stored(ws, "SELECT value, raw FROM _quarantine")
    assert "\x00" not in value and "\x00" not in raw


# ---- real exports -------------------------------------------------------------------------------
needs_shared = pytest.mark.skipif(not SHARED.is_dir(),
                                  reason="../shared/crm-exports is absent (real CRM exports)")


@needs_shared
def test_stripe_export_month_day_dates_load_as_their_year(ws, tmp_path):
    """Stripe's `12/25/25 20:18` (M/D/YY) — the issue's silent year-0001 corruption."""
    src = SHARED / "stripe_subscriptions_familymind_redacted" / "subscriptions.redacted.csv"
    path = tmp_path / "leads.csv"
    ws.duckdb.execute(f"""COPY (SELECT id AS lead_id, "Created (UTC)" AS created_at FROM
        read_csv('{src}', all_varchar=true)) TO '{path}' (HEADER)""")
    total = stored(ws, f"SELECT count(*) FROM read_csv('{src}', all_varchar=true)")[0][0]
    report = ws.ingest([path])
    assert report.tables["leads"].to_json() == {"rows": total, "accepted": total, "rejected": 0}
    first, last = stored(ws, "SELECT min(created_at), max(created_at) FROM leads")[0]
    assert first.year >= 2015 and last.year <= 2026
    assert stored(ws, "SELECT created_at FROM leads WHERE lead_id = "
                      "'sub_1SiKztJVxLzS0GFcA0vFpH6J'") == [(dt.datetime(2025, 12, 25, 20, 18),)]


@needs_shared
def test_hubspot_deal_dates_load(ws, tmp_path):
    src = SHARED / "hubspot_deals_marvell" / "hubspot-crm-exports-all-deals-2023-04-03.csv"
    path = tmp_path / "leads.csv"
    ws.duckdb.execute(f"""COPY (SELECT "Record ID" AS lead_id, "Create Date" AS created_at FROM
        read_csv('{src}', all_varchar=true)) TO '{path}' (HEADER)""")
    report = ws.ingest([path])
    assert report.rejected == 0 and report.rows > 0
    assert stored(ws, "SELECT created_at FROM leads WHERE lead_id = '6877153472'") == [
        (dt.datetime(2023, 3, 13, 11, 47),)]
