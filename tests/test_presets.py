"""CRM export presets (issue 13 item 1) on hand-made exports in tests/fixtures/crm: each preset
loads its vendor's quirks with the counts and figures worked out by hand beside each assert."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from journeys import row_for

import funnelmetrics
from funnelmetrics.config import Config, CrmSettings
from funnelmetrics.errors import InputError

CRM = Path(__file__).parent / "fixtures" / "crm"
T = dt.datetime


def open_ws(tmp_path: Path, **config: object):
    ws = funnelmetrics.open(tmp_path / "w.duckdb", config=Config(**config))  # type: ignore[arg-type]
    ws.init()
    return ws


@pytest.fixture
def ws(tmp_path: Path):
    w = open_ws(tmp_path)
    yield w
    w.close()


def rows(ws, sql: str) -> list[tuple]:
    return ws.duckdb.execute(sql).fetchall()


def counts(report) -> dict:
    return report.to_json()["tables"]


def value(df, period: str) -> object:
    v = row_for(df, period)["value"]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


# ---- HubSpot contacts ---------------------------------------------------------------------------
def test_hubspot_contacts_current_generation(ws) -> None:
    report = ws.ingest([CRM / "hubspot-contacts-current.csv"])
    assert {f.via for f in report.files} == {"preset hubspot-contacts"}
    # 6 contacts; 106's Create Date is 9999-12-31 (a placeholder): rejected, with its one event
    # 12 funnel-stage dates: 101 lead/mql/sql/opportunity/customer (5), 102 lead/mql/sql (3),
    # 103 lead (1), 104 lead/mql (2), 105 only Subscriber (0), 106 lead (1)
    assert counts(report) == {"leads": {"rows": 6, "accepted": 5, "rejected": 1},
                              "stage_events": {"rows": 12, "accepted": 11, "rejected": 1}}
    assert {(p.row, p.code) for p in report.problems} == {(7, "placeholder_date"),
                                                          (7, "unknown_reference")}
    assert rows(ws, "SELECT lead_id, created_at, source, rep_id, account_id FROM leads "
                    "ORDER BY lead_id")[:2] == [
        ("101", T(2026, 1, 5, 9), "Organic Social", "Rina", "9001"),
        ("102", T(2026, 1, 7, 14, 30), "Paid Social", "Rina", None)]
    assert rows(ws, "SELECT stage, occurred_at FROM stage_events WHERE lead_id = '101' "
                    "ORDER BY occurred_at") == [
        ("lead", T(2026, 1, 5, 9)), ("mql", T(2026, 1, 10, 10)), ("sql", T(2026, 1, 20, 8)),
        ("opportunity", T(2026, 2, 1, 12)), ("won", T(2026, 2, 15, 16))]
    # custom properties, other stages' dates and the repeated header are kept as attributes
    assert rows(ws, 'SELECT "Favourite colour", "Associated Company", "Associated Company (2)", '
                    '"Date entered ""Evangelist (Lifecycle Stage Pipeline)""", "Lifecycle Stage" '
                    "FROM leads WHERE lead_id = '101'") == [
        ("Blue", "Acme", "Acme Ltd", "2026-03-01 00:00", "Customer")]
    created = ws.metric("leads_created", grain="month", start="2026-01-01", end="2026-02-28")
    assert value(created, "2026-01-01") == 2  # 101, 102
    assert value(created, "2026-02-01") == 3  # 103, 104, 105 (106 rejected)
    mql = ws.metric("stage_reached", grain="month", start="2026-01-01", end="2026-02-28",
                    stage="mql")
    assert value(mql, "2026-01-01") == 2  # 101 on Jan 10, 102 on Jan 8
    assert value(mql, "2026-02-01") == 1  # 104 on Feb 12
    won = ws.metric("stage_reached", grain="month", start="2026-02-01", end="2026-02-28",
                    stage="won")
    assert value(won, "2026-02-01") == 1  # 101 became a Customer on Feb 15


def test_one_quarantine_file_for_a_file_read_into_two_tables(ws) -> None:
    report = ws.ingest([CRM / "hubspot-contacts-current.csv"])
    # contact 106 is rejected in leads and its event in stage_events: one file, both lines
    assert report.quarantine is not None
    assert report.quarantine.name.startswith("hubspot-contacts-current.")
    lines = report.quarantine.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3  # header + the two problem lines
    assert {line.split(",")[1] for line in lines[1:]} == {"leads", "stage_events"}


def test_loading_an_export_twice_changes_nothing(ws) -> None:
    ws.ingest([CRM / "hubspot-contacts-current.csv"])
    before = rows(ws, "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM stage_events)")
    ws.ingest([CRM / "hubspot-contacts-current.csv"])
    assert rows(ws, "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM stage_events)"
                ) == before == [(5, 11)]


def test_workspace_lifecycle_stages_add_funnel_stages(tmp_path: Path) -> None:
    # the portal's own "Evangelist" stage counted as won (a customer who got there first)
    ws = open_ws(tmp_path, crm=CrmSettings(lifecycle_stages={"Evangelist": "won"}))
    ws.ingest([CRM / "hubspot-contacts-current.csv"])
    # 101's Customer (Feb 15) and Evangelist (Mar 1) dates are both "won" events; the
    # earliest is when it was won
    assert rows(ws, "SELECT occurred_at FROM stage_events WHERE lead_id = '101' AND "
                    "stage = 'won' ORDER BY 1") == [(T(2026, 2, 15, 16),), (T(2026, 3, 1),)]
    won = ws.metric("stage_reached", grain="month", start="2026-02-01", end="2026-03-31",
                    stage="won")
    assert (value(won, "2026-02-01"), value(won, "2026-03-01")) == (1, 0)
    ws.close()


def test_hubspot_contacts_older_generation(ws) -> None:
    report = ws.ingest([CRM / "hubspot-contacts-older.csv"])  # UTF-8 BOM, CRLF, Contact ID
    # 201: lead, mql, sql, opportunity, customer (5); 202: lead, sql, opportunity (3); 203: Other
    assert counts(report) == {"leads": {"rows": 3, "accepted": 3, "rejected": 0},
                              "stage_events": {"rows": 8, "accepted": 8, "rejected": 0}}
    assert rows(ws, "SELECT lead_id, source FROM leads ORDER BY 1") == [
        ("201", "Referrals"), ("202", "Email Marketing"), ("203", "Organic Search")]
    mql = ws.metric("stage_reached", grain="month", start="2025-11-01", end="2025-12-31",
                    stage="mql")
    # cumulative: 201 on Nov 4; 202 has no MQL date but reached SQL on Nov 25
    assert value(mql, "2025-11-01") == 2
    won = ws.metric("stage_reached", grain="month", start="2025-12-01", end="2025-12-31",
                    stage="won")
    assert value(won, "2025-12-01") == 1  # 201 on Dec 19


def test_hubspot_portal_time_zone_from_the_workspace(tmp_path: Path) -> None:
    ws = open_ws(tmp_path, crm=CrmSettings(timezone="Asia/Jakarta"))  # UTC+7, no DST
    ws.ingest([CRM / "hubspot-contacts-current.csv"])
    # 2026-01-05 09:00 in Jakarta is 02:00 UTC
    assert rows(ws, "SELECT created_at FROM leads WHERE lead_id = '101'") == [(T(2026, 1, 5, 2),)]
    ws.close()


# ---- HubSpot deals ------------------------------------------------------------------------------
def test_hubspot_deals_view_export(ws) -> None:
    report = ws.ingest([CRM / "hubspot-deals-view.csv"])
    # 307 closes (Jan 1) before it was created (Jan 15): rejected; 308's date-only close on its
    # creation day is valid
    assert counts(report) == {"opportunities": {"rows": 8, "accepted": 7, "rejected": 1}}
    assert [(p.row, p.code) for p in report.problems] == [(8, "end_before_start")]
    assert rows(ws, "SELECT opportunity_id, status, amount, closed_at, expected_close_at "
                    "FROM opportunities ORDER BY 1") == [
        ("301", "won", 1000.0, T(2026, 1, 20, 10), None),
        ("302", "won", None, T(2026, 1, 25, 11), None),
        ("303", "lost", 500.0, T(2026, 1, 28, 12), None),
        ("304", "open", 700.0, None, T(2026, 1, 30, 12)),  # Closed: abandoned is not closed
        ("305", "open", 2000.0, None, T(2026, 3, 31)),
        ("306", "open", None, None, T(2026, 2, 28)),
        ("308", "lost", None, T(2026, 1, 20, 15), None)]
    assert rows(ws, "SELECT deal_stage, rep_id, lost_reason FROM opportunities "
                    "WHERE opportunity_id = '303'") == [("Closed: lost", "Budi", "Price")]
    jan = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31"}
    assert value(ws.metric("win_rate", **jan), "2026-01-01") == 0.5  # won 301, 302; lost 303, 308
    assert value(ws.metric("average_deal_size", **jan), "2026-01-01") == 1000  # 302 unknown
    # open at Jan's end: 304 (700) + 305 (2000); 306's amount is unknown
    assert value(ws.metric("pipeline_value", **jan), "2026-01-01") == 2700


def test_amount_metrics_say_how_many_unknown_amounts_they_left_out(ws) -> None:
    ws.ingest([CRM / "hubspot-deals-view.csv"])
    jan = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31"}
    # January's won deals: 301 (1000) and 302 (no amount); the open deals at its end: 304,
    # 305 and 306 (no amount); win_rate counts every deal and has no such note
    size = row_for(ws.metric("average_deal_size", **jan), "2026-01-01")
    assert (size["value"], size["note"]) == (1000, "1 won deal(s) with an unknown amount left out")
    pipe = row_for(ws.metric("pipeline_value", **jan), "2026-01-01")
    assert (pipe["value"], pipe["note"]) == (2700,
                                             "1 open deal(s) with an unknown amount left out")
    tcv = row_for(ws.metric("tcv", **jan), "2026-01-01")
    assert tcv["note"] == "1 won deal(s) with an unknown amount left out"
    assert "note" not in ws.metric("win_rate", **jan).columns


def test_no_note_when_every_amount_is_known(ws) -> None:
    ws.ingest([CRM / "hubspot-deals-all-properties.csv"])
    feb = {"grain": "month", "start": "2026-02-01", "end": "2026-02-28"}
    # February's won deals 401 and 404 both have an amount (402, lost, has none)
    assert row_for(ws.metric("average_deal_size", **feb), "2026-02-01")["note"] is None


def test_hubspot_abandoned_stage_configured_as_lost(tmp_path: Path) -> None:
    ws = open_ws(tmp_path, crm=CrmSettings(deal_stages={"Closed: abandoned": "lost"}))
    ws.ingest([CRM / "hubspot-deals-view.csv"])
    assert rows(ws, "SELECT status, closed_at FROM opportunities WHERE opportunity_id = '304'"
                ) == [("lost", T(2026, 1, 30, 12))]
    jan = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31"}
    assert value(ws.metric("win_rate", **jan), "2026-01-01") == 0.4  # 2 won / (2 + 3 lost)
    assert value(ws.metric("pipeline_value", **jan), "2026-01-01") == 2000  # 305 only
    ws.close()


def test_hubspot_deals_all_properties(tmp_path: Path) -> None:
    ws = open_ws(tmp_path, currency="GBP", crm=CrmSettings(currency="GBP"))
    report = ws.ingest([CRM / "hubspot-deals-all-properties.csv"])
    assert counts(report) == {"opportunities": {"rows": 4, "accepted": 4, "rejected": 0}}
    # Is Deal Closed? + probability: 401 and the custom stage 404 won (1.0), 402 lost (0.0),
    # 403 "Closed: abandoned" open (HubSpot does not count it as closed)
    assert rows(ws, "SELECT opportunity_id, status, probability, currency FROM opportunities "
                    "ORDER BY 1") == [("401", "won", 1.0, "GBP"), ("402", "lost", 0.0, "GBP"),
                                      ("403", "open", 0.1, "GBP"), ("404", "won", 1.0, "GBP")]
    feb = {"grain": "month", "start": "2026-02-01", "end": "2026-02-28"}
    assert value(ws.metric("win_rate", **feb), "2026-02-01") == pytest.approx(2 / 3)
    assert value(ws.metric("average_deal_size", **feb), "2026-02-01") == 850  # (1200 + 500) / 2
    assert rows(ws, 'SELECT "Associated Company", "Associated Company (2)" FROM opportunities '
                    "WHERE opportunity_id = '401'") == [("Acme", "Acme Group")]
    ws.close()


def test_hubspot_probability_in_percent(ws, tmp_path: Path) -> None:
    export = tmp_path / "hubspot-crm-exports-deals.csv"
    export.write_text("Record ID,Deal Name,Deal Stage,Create Date,Close Date,Deal probability,"
                      "Is Deal Closed?\n1,A,Proposal,2026-01-02 09:00,2026-03-01 00:00,10,false\n"
                      "2,B,Won it,2026-01-02 09:00,2026-01-09 10:00,100,true\n", encoding="utf-8")
    ws.ingest([export])
    # 10 (percent) is 0.1; 100 on a closed deal is won
    assert rows(ws, "SELECT opportunity_id, status, probability FROM opportunities ORDER BY 1"
                ) == [("1", "open", 0.1), ("2", "won", 1.0)]


# ---- Salesforce ---------------------------------------------------------------------------------
def test_salesforce_leads(ws) -> None:
    report = ws.ingest([CRM / "salesforce-leads.csv"])
    # 00Q3 is deleted (IsDeleted 1): skipped and counted; 00Q2 converted with an opportunity,
    # 00Q4 converted without one (000000000000000AAA)
    assert counts(report) == {"leads": {"rows": 3, "accepted": 3, "rejected": 0, "skipped": 1},
                              "stage_events": {"rows": 2, "accepted": 2, "rejected": 0}}
    assert rows(ws, "SELECT lead_id, source, account_id, country, \"SICCode__c\" FROM leads "
                    "ORDER BY 1") == [
        ("00Q1", "Web", None, "Indonesia", "2768"),
        ("00Q2", "Partner Referral", "001X", "Malaysia", None),
        ("00Q4", "Phone Inquiry", "001Y", "Indonesia", None)]
    assert rows(ws, "SELECT lead_id, stage, occurred_at FROM stage_events ORDER BY 1") == [
        ("00Q2", "opportunity", T(2026, 1, 20)), ("00Q4", "sql", T(2026, 2, 2))]


def test_salesforce_opportunities_cp1252_spanish_four_currencies(ws) -> None:
    report = ws.ingest([CRM / "salesforce-opportunities-es.csv"])  # Windows-1252
    # 7 rows: 006O5 deleted (skipped); 006O7 closes on Jan 10, before its creation day
    # (Jan 12): rejected; 006O6 closes (date only) on its creation day: valid
    assert counts(report) == {"opportunities": {"rows": 6, "accepted": 5, "rejected": 1,
                                                "skipped": 1}}
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (8, "closed_at", "end_before_start")]
    assert rows(ws, "SELECT opportunity_id, status, deal_stage, amount, probability, currency, "
                    "account_id, closed_at, expected_close_at FROM opportunities ORDER BY 1") == [
        ("006O1", "won", "Cerrada ganada", 1000.0, 1.0, "EUR", "001A", T(2026, 1, 20), None),
        ("006O2", "lost", "Cerrada perdida", 2000.0, 0.0, "USD", None, T(2026, 1, 25), None),
        ("006O3", "open", "Negociación/Revisión", 3000.0, 0.9, "MXN", "001B", None,
         T(2026, 3, 31)),
        ("006O4", "open", "Calificación", None, 0.1, "COP", "001C", None, T(2026, 4, 30)),
        ("006O6", "won", "Cerrada ganada", 500.0, 1.0, "EUR", "001D", T(2026, 1, 15, 16, 30),
         None)]
    jan = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31"}
    assert value(ws.metric("win_rate", **jan), "2026-01-01") == pytest.approx(2 / 3)


def test_salesforce_history_keeps_stage_changes_only(ws) -> None:
    report = ws.ingest([CRM / "salesforce-opportunities-es.csv",
                        CRM / "salesforce-opportunity-history.csv"])
    # 9 history rows: H2 (amount change), H9 (close date change) are not stage changes and H7
    # is deleted: skipped; H3 comes after H4 in the file but before it in time
    assert counts(report)["deal_stage_events"] == {"rows": 6, "accepted": 6, "rejected": 0,
                                                   "skipped": 3}
    assert rows(ws, "SELECT opportunity_id, deal_stage, occurred_at FROM deal_stage_events "
                    "ORDER BY 1, 3") == [
        ("006O1", "Prospección", T(2026, 1, 5, 10)),
        ("006O1", "Negociación/Revisión", T(2026, 1, 15, 10)),
        ("006O1", "Cerrada ganada", T(2026, 1, 20, 10)),
        ("006O2", "Prospección", T(2026, 1, 6, 10)),
        ("006O2", "Cerrada perdida", T(2026, 1, 25, 10)),
        ("006O3", "Negociación/Revisión", T(2026, 1, 10, 10))]


def test_salesforce_report_labels_and_us_dates(ws) -> None:
    report = ws.ingest([CRM / "salesforce-opportunities-report.csv"])
    assert report.files[0].via == "preset salesforce-opportunities"
    assert counts(report) == {"opportunities": {"rows": 3, "accepted": 3, "rejected": 0}}
    # M/D/YYYY: "1/20/2026" proves month first (20 cannot be a month)
    assert rows(ws, "SELECT opportunity_id, status, created_at, closed_at, probability, rep_id "
                    "FROM opportunities ORDER BY 1") == [
        ("006R1", "won", T(2026, 1, 5), T(2026, 1, 20), 1.0, "Ana"),
        ("006R2", "lost", T(2026, 1, 6), T(2026, 1, 22), 0.0, "Ana"),
        ("006R3", "open", T(2026, 1, 15), None, 0.1, "Budi")]
    jan = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31"}
    assert value(ws.metric("win_rate", **jan), "2026-01-01") == 0.5
    assert value(ws.metric("pipeline_value", **jan), "2026-01-01") == 250


def test_salesforce_accounts_and_users_beside_opportunities(ws) -> None:
    report = ws.ingest([CRM / "salesforce-accounts.csv", CRM / "salesforce-users.csv",
                        CRM / "salesforce-opportunities-es.csv"])
    assert [(f.table, f.via) for f in report.files] == [
        ("accounts", "preset salesforce-accounts"), ("reps", "preset salesforce-users"),
        ("opportunities", "preset salesforce-opportunities")]
    # 001Z is deleted: skipped
    assert report.to_json()["tables"]["accounts"] == {"rows": 2, "accepted": 2, "rejected": 0,
                                                      "skipped": 1}
    assert rows(ws, "SELECT account_id, name, segment, country, industry, employees FROM "
                    "accounts ORDER BY 1") == [
        ("001A", "Edge Communications", "Customer - Direct", "Indonesia", "Electronics", 1000.0),
        ("001B", "Burlington Textiles", "Customer - Channel", "Malaysia", "Apparel", 9000.0)]
    assert rows(ws, "SELECT rep_id, name, team, region, manager_id FROM reps ORDER BY 1") == [
        ("005A", "Ana Putri", "Sales", "APAC", None), ("005B", "Budi Santoso", "Sales", "APAC",
                                                       "005A")]


# ---- Pipedrive ----------------------------------------------------------------------------------
def test_pipedrive_deals(ws) -> None:
    report = ws.ingest([CRM / "pipedrive-deals.csv"])
    # deal 6 is Deleted (skipped); deal 5 is Lost with no lost time: rejected (closed_at
    # is required for a closed deal)
    assert counts(report) == {"opportunities": {"rows": 5, "accepted": 4, "rejected": 1,
                                                "skipped": 1}}
    assert [(p.row, p.code) for p in report.problems] == [(6, "closed_at_required")]
    assert rows(ws, "SELECT opportunity_id, status, amount, currency, deal_stage, rep_id, "
                    "closed_at, expected_close_at, lost_reason FROM opportunities ORDER BY 1") == [
        ("1", "won", 5000.0, "PLN", "Zakwalifikowani", "Anna", T(2025, 2, 1, 12), None, None),
        ("2", "lost", 3000.0, "PLN", "Kandydaci", "Anna", T(2025, 1, 30, 8), None, "Za drogo"),
        ("3", "open", None, "PLN", "Kandydaci", "Piotr", None, T(2025, 3, 31), None),
        ("4", "open", 1000.0, "EUR", "Propozycja warsztatów", "Piotr", None, T(2025, 4, 15),
         None)]
    # other entities' fields and localized custom fields stay as written
    assert rows(ws, 'SELECT "Person - ID", "Deal - Źródło finansowania" FROM opportunities '
                    "WHERE opportunity_id = '1'") == [("11", "Własne")]
    rate = ws.metric("win_rate", grain="month", start="2025-01-01", end="2025-02-28")
    assert value(rate, "2025-01-01") == 0.0  # deal 2 lost on Jan 30
    assert value(rate, "2025-02-01") == 1.0  # deal 1 won on Feb 1


def test_pipedrive_entity_in_another_language(ws, tmp_path: Path) -> None:
    export = tmp_path / "deals-export.csv"
    export.write_text('"Osoba - ID","Obchod - ID","Obchod - Stage","Obchod - Status",'
                      '"Obchod - Deal created","Obchod - Value"\n'
                      '"7","1","Nový","Open","2025-03-01 10:00:00","1500"\n', encoding="utf-8")
    report = ws.ingest([export])
    assert report.files[0].via == "preset pipedrive-deals"
    assert rows(ws, 'SELECT opportunity_id, status, deal_stage, amount, "Osoba - ID" FROM '
                    "opportunities") == [("1", "open", "Nový", 1500.0, "7")]


# ---- Stripe -------------------------------------------------------------------------------------
def test_stripe_subscriptions_mrr(tmp_path: Path) -> None:
    ws = open_ws(tmp_path, currency="IDR")
    report = ws.ingest([CRM / "stripe-subscriptions.csv"])  # BOM, M/D/YY H:MM dates
    assert counts(report) == {"subscriptions": {"rows": 6, "accepted": 6, "rejected": 0}}
    assert rows(ws, "SELECT subscription_id, mrr, started_at, ended_at, currency FROM "
                    "subscriptions ORDER BY 1") == [
        ("sub_1", 150000.0, T(2026, 1, 5, 10), None, "IDR"),
        ("sub_2", 200000.0, T(2026, 1, 10, 9), None, "IDR"),  # 1,200,000 × 2 a year / 12
        ("sub_3", 50000.0, T(2026, 2, 3, 8), None, "IDR"),  # trialing: pays from its trial end
        ("sub_4", 150000.0, T(2026, 1, 2, 7), T(2026, 2, 14, 12), "IDR"),  # 50,000 × 3, canceled
        ("sub_5", 50000.0, T(2026, 1, 25, 11), None, "IDR"),  # past_due still counts
        ("sub_6", 50000.0, T(2026, 1, 28, 11), T(2026, 1, 28, 11), "IDR")]  # never paid
    mrr = ws.metric("mrr", grain="month", start="2026-01-01", end="2026-02-28")
    assert value(mrr, "2026-01-01") == 550000  # sub_1 + sub_2 + sub_4 + sub_5
    assert value(mrr, "2026-02-01") == 450000  # sub_4 ended, sub_3's trial is over
    assert rows(ws, 'SELECT "plan_tier (metadata)" FROM subscriptions '
                    "WHERE subscription_id = 'sub_1'") == [("gold",)]
    ws.close()


def test_stripe_canceled_at_ends_only_ended_subscriptions(ws, tmp_path: Path) -> None:
    export = tmp_path / "subscriptions.csv"
    export.write_text(
        "id,Customer ID,Plan,Quantity,Currency,Interval,Amount,Status,Start Date (UTC),"
        "Current Period End (UTC),Canceled At (UTC),Cancel At Period End\n"
        "sub_a,cus_a,p,1,usd,month,10,active,2026-01-05 10:00,2026-03-05 10:00,"
        "2026-02-20 09:00,true\n"
        "sub_b,cus_b,p,1,usd,month,20,canceled,2026-01-06 10:00,2026-03-06 10:00,"
        "2026-02-10 09:00,false\n", encoding="utf-8")
    ws.ingest([export])
    # sub_a will cancel at its period's end but is still active; sub_b stopped when canceled
    assert rows(ws, "SELECT subscription_id, ended_at FROM subscriptions ORDER BY 1") == [
        ("sub_a", None), ("sub_b", T(2026, 2, 10, 9))]


def test_an_xlsx_export_reads_through_its_preset(ws, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Record ID", "Deal Name", "Deal Stage", "Close Date", "Amount", "Create Date",
                  "Deal owner", "Deal owner"])
    sheet.append([501, "A", "Closed Won", dt.datetime(2026, 3, 10, 9), 1500.5,
                  dt.datetime(2026, 3, 1, 8), "Rina", "rina@example.com"])
    sheet.append([502, "B", "Closed Lost", dt.datetime(2026, 3, 12, 9), None,
                  dt.datetime(2026, 3, 2, 8), "Budi", "budi@example.com"])
    book.save(tmp_path / "hubspot-crm-exports-deals.xlsx")
    report = ws.ingest([tmp_path / "hubspot-crm-exports-deals.xlsx"])
    assert [(f.table, f.via, f.rows) for f in report.files] == [
        ("opportunities", "preset hubspot-deals", 2)]
    assert rows(ws, 'SELECT opportunity_id, status, amount, closed_at, "Deal owner (2)" FROM '
                    "opportunities ORDER BY 1") == [
        ("501", "won", 1500.5, T(2026, 3, 10, 9), "rina@example.com"),
        ("502", "lost", None, T(2026, 3, 12, 9), "budi@example.com")]


# ---- choosing a preset --------------------------------------------------------------------------
def test_recognised_by_header_not_by_name(ws, tmp_path: Path) -> None:
    renamed = tmp_path / "leads.csv"  # named like a table, but a HubSpot deals export
    renamed.write_bytes((CRM / "hubspot-deals-view.csv").read_bytes())
    report = ws.ingest([renamed])
    assert [(f.table, f.via) for f in report.files] == [("opportunities", "preset hubspot-deals")]


def test_a_canonical_file_is_read_as_it_is(ws, tmp_path: Path) -> None:
    plain = tmp_path / "leads.csv"
    plain.write_text("lead_id,created_at,source\nA,2026-01-01,Web\n", encoding="utf-8")
    report = ws.ingest([plain])
    assert [(f.table, f.via) for f in report.files] == [("leads", None)]


def test_the_wrong_preset_is_one_line(ws) -> None:
    with pytest.raises(InputError, match="not a stripe-subscriptions export"):
        ws.ingest([CRM / "hubspot-deals-view.csv"], preset="stripe-subscriptions")
    with pytest.raises(InputError, match="unknown preset 'hubspot'; presets: "):
        ws.ingest([CRM / "hubspot-deals-view.csv"], preset="hubspot")


def test_an_unknown_export_still_names_the_tables(ws, tmp_path: Path) -> None:
    odd = tmp_path / "export-2026.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown table 'export-2026'"):
        ws.ingest([odd])


def test_explicit_preset_for_a_file_of_any_name(ws, tmp_path: Path) -> None:
    report = ws.ingest([CRM / "pipedrive-deals.csv"], preset="pipedrive-deals", dry_run=True)
    assert report.files[0].via == "preset pipedrive-deals"
    # a dry run shows the first canonical rows it would store
    assert [r["opportunity_id"] for r in report.files[0].preview] == ["1", "2", "3", "4"]
    assert ws.duckdb.execute("SELECT count(*) FROM opportunities").fetchone() == (0,)
