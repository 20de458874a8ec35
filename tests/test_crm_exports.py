"""Real CRM exports (../shared/crm-exports, see its README and FORMATS.md) load by preset with no
row lost, and their figures equal a reference computed in the test from the raw file with csv
and pandas (issue 13 item 7). The exports are never copied into the project."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

import funnelmetrics
from funnelmetrics.config import Config

EXPORTS = Path(__file__).parents[1].parent / "shared" / "crm-exports"
pytestmark = pytest.mark.skipif(not EXPORTS.is_dir(),
                                reason="../shared/crm-exports is absent (real CRM exports)")
HUBSPOT = EXPORTS / "hubspot_deals_marvell"
VIEW_0403 = HUBSPOT / "hubspot-crm-exports-all-deals-2023-04-03.csv"
VIEW_0509 = HUBSPOT / "hubspot-crm-exports-all-deals-2023-05-09.csv"
ALL_0516 = HUBSPOT / "hubspot-crm-exports-all-deals-2023-05-16.redacted.csv"
SALESFORCE = EXPORTS / "salesforce_dataexport_devorg"
PIPEDRIVE = EXPORTS / "pipedrive_deals_ambiwalencja" / "data.csv"
STRIPE = EXPORTS / "stripe_subscriptions_familymind_redacted" / "subscriptions.redacted.csv"


@pytest.fixture
def open_ws(tmp_path: Path):
    opened = []

    def make(**config: object):
        ws = funnelmetrics.open(tmp_path / f"w{len(opened)}.duckdb",
                                config=Config(**config))  # type: ignore[arg-type]
        ws.init()
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def raw(path: Path, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """The export as text, every cell a string ('' for empty), one row per record."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def records(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def rejected_rows(report) -> set[int]:
    return {p.row for p in report.problems}


def metric_value(ws, metric: str, period: str, **query: object) -> float | None:
    df = ws.metric(metric, **query)
    v = df[df["period_start"].astype(str) == period]["value"].iloc[0]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


# ---- HubSpot deals ------------------------------------------------------------------------------
def hubspot_reference(df: pd.DataFrame, *, flags: bool) -> pd.DataFrame:
    """Status as the preset defines it, worked out from the raw columns."""
    out = df.copy()
    stage = out["Deal Stage"].str.strip().str.lower()
    if flags:  # Is Deal Closed? and probability (1.0 = won)
        closed = out["Is Deal Closed?"].str.lower() == "true"
        won = closed & ((pd.to_numeric(out["Deal probability"], errors="coerce") >= 1)
                        | stage.str.fullmatch(r"closed\W*won"))
        out["status"] = "open"
        out.loc[closed, "status"] = "lost"
        out.loc[won, "status"] = "won"
    else:  # the stage name
        out["status"] = "open"
        out.loc[stage.str.fullmatch(r"closed\W*won"), "status"] = "won"
        out.loc[stage.str.fullmatch(r"closed\W*lost"), "status"] = "lost"
    out["created"] = pd.to_datetime(out["Create Date"], format="%Y-%m-%d %H:%M", errors="coerce")
    out["close"] = pd.to_datetime(out["Close Date"], format="%Y-%m-%d %H:%M", errors="coerce")
    closed = out["status"] != "open"
    out["bad"] = (out["created"].isna() | (closed & out["close"].isna())
                  | (closed & (out["close"] < out["created"])))
    out["row"] = range(2, len(out) + 2)
    return out


@pytest.mark.parametrize(("path", "flags"), [(VIEW_0403, False), (VIEW_0509, False),
                                             (ALL_0516, True)])
def test_hubspot_deals_load_with_no_row_lost(open_ws, path: Path, flags: bool) -> None:
    ws = open_ws()
    report = ws.ingest([path])
    ref = hubspot_reference(raw(path), flags=flags)
    t = report.to_json()["tables"]["opportunities"]
    assert report.files[0].via == "preset hubspot-deals"
    assert t["rows"] == records(path) == len(ref)
    assert t["accepted"] + t["rejected"] == t["rows"]
    assert rejected_rows(report) == set(ref.loc[ref["bad"], "row"])
    good = ref[~ref["bad"]]
    stored = dict(ws.duckdb.execute(
        "SELECT status, count(*) FROM opportunities GROUP BY 1").fetchall())
    assert stored == good["status"].value_counts().to_dict()
    # amounts: blank is unknown (left out), never 0
    amount = "Amount in company currency" if flags else "Amount"
    known = pd.to_numeric(good[amount], errors="coerce")
    assert ws.duckdb.execute("SELECT count(amount), sum(amount) FROM opportunities"
                             ).fetchone() == (known.notna().sum(), pytest.approx(known.sum()))


@pytest.mark.parametrize(("path", "flags"), [(VIEW_0403, False), (ALL_0516, True)])
def test_hubspot_win_rate_and_deal_size_per_year(open_ws, path: Path, flags: bool) -> None:
    ws = open_ws()
    ws.ingest([path])
    ref = hubspot_reference(raw(path), flags=flags)
    good = ref[~ref["bad"] & (ref["status"] != "open")]
    amount = "Amount in company currency" if flags else "Amount"
    assert good["close"].dt.year.nunique() == 2  # deals closed in 2022 and 2023
    for year, rows in good.groupby(good["close"].dt.year):
        won = rows[rows["status"] == "won"]
        period = f"{year}-01-01"
        query = {"grain": "year", "start": period, "end": f"{year}-12-31"}
        assert metric_value(ws, "win_rate", period, **query) == pytest.approx(
            len(won) / len(rows))
        known = pd.to_numeric(won[amount], errors="coerce").dropna()
        expected = known.mean() if len(known) else None
        got = metric_value(ws, "average_deal_size", period, **query)
        assert got == (pytest.approx(expected) if expected is not None else None)


def test_hubspot_all_properties_keeps_every_column(open_ws) -> None:
    ws = open_ws()
    ws.ingest([ALL_0516])
    names = {r[0] for r in ws.duckdb.execute(
        "SELECT name FROM pragma_table_info('opportunities')").fetchall()}
    # duplicate header names kept apart; custom and association columns kept as attributes
    assert {"Associated Company", "Associated Company (2)", "Associated Company IDs",
            "Associated Company IDs (2)", "Forecast category", "Pipeline"} <= names


def test_hubspot_newer_snapshot_replaces_missing_deals(open_ws) -> None:
    ws = open_ws()
    first = ws.ingest([VIEW_0403])
    old = hubspot_reference(raw(VIEW_0403), flags=False)
    stored = set(old.loc[~old["bad"], "Record ID"])
    assert first.to_json()["tables"]["opportunities"]["accepted"] == len(stored)
    newer = set(raw(VIEW_0509)["Record ID"])
    report = ws.ingest([VIEW_0509], replace_missing=True)
    assert len(stored - newer) == 13  # deals of 04-03 no longer in the 05-09 export
    assert report.removed.get("opportunities", 0) == len(stored - newer)
    now = {r[0] for r in ws.duckdb.execute("SELECT opportunity_id FROM opportunities").fetchall()}
    ref = hubspot_reference(raw(VIEW_0509), flags=False)
    # what is stored: the newer export's good rows, plus older versions of rows it rejects
    assert now == set(ref.loc[~ref["bad"], "Record ID"]) | (
        stored & set(ref.loc[ref["bad"], "Record ID"]))


# ---- Salesforce Data Export ---------------------------------------------------------------------
def test_salesforce_leads(open_ws) -> None:
    ws = open_ws()
    report = ws.ingest([SALESFORCE / "Lead.csv"])
    df = raw(SALESFORCE / "Lead.csv")
    kept = df[df["IsDeleted"] != "1"]
    assert report.to_json()["tables"]["leads"] == {"rows": len(kept), "accepted": len(kept),
                                                   "rejected": 0}
    assert report.files[0].skipped == len(df) - len(kept)
    by_source = dict(ws.duckdb.execute("SELECT source, count(*) FROM leads GROUP BY 1").fetchall())
    assert by_source == kept["LeadSource"].value_counts().to_dict()
    # empty lookups (000000000000000AAA) are null, not an id
    assert ws.duckdb.execute("SELECT count(account_id) FROM leads").fetchone() == (
        (~kept["ConvertedAccountId"].isin(["", "000000000000000AAA"])).sum(),)


def salesforce_opportunities() -> pd.DataFrame:
    df = raw(SALESFORCE / "Opportunity.csv")
    df = df[df["IsDeleted"] != "1"].copy()
    df["row"] = df.index + 2
    created = pd.to_datetime(df["CreatedDate"])
    close = pd.to_datetime(df["CloseDate"])
    # a closed deal's close date (a date) before its creation day is rejected
    df["bad"] = (df["IsClosed"] == "1") & (close.dt.normalize() < created.dt.normalize())
    return df


def test_salesforce_opportunities_and_history(open_ws) -> None:
    ws = open_ws()
    report = ws.ingest([SALESFORCE / "Opportunity.csv", SALESFORCE / "OpportunityHistory.csv"])
    opp = salesforce_opportunities()
    tables = report.to_json()["tables"]
    assert tables["opportunities"]["rows"] == len(opp) == records(SALESFORCE / "Opportunity.csv")
    assert tables["opportunities"]["rejected"] == opp["bad"].sum()
    good = opp[~opp["bad"]]
    assert ws.duckdb.execute(
        "SELECT count(*) FILTER (WHERE status = 'won'), count(*) FILTER (WHERE status = 'open'), "
        "count(*) FILTER (WHERE status = 'lost') FROM opportunities").fetchone() == (
        ((good["IsWon"] == "1")).sum(), (good["IsClosed"] == "0").sum(),
        ((good["IsClosed"] == "1") & (good["IsWon"] == "0")).sum())
    # every open deal was created 2018-10-13 and is open at October's end
    open_amount = pd.to_numeric(good.loc[good["IsClosed"] == "0", "Amount"]).sum()
    assert metric_value(ws, "pipeline_value", "2018-10-01", grain="month",
                        start="2018-10-01", end="2018-10-31") == pytest.approx(open_amount)
    weighted = (pd.to_numeric(good["Amount"]) * pd.to_numeric(good["Probability"]) / 100)[
        good["IsClosed"] == "0"].sum()
    assert ws.duckdb.execute("SELECT sum(amount * probability) FROM opportunities "
                             "WHERE status = 'open'").fetchone()[0] == pytest.approx(weighted)
    # history: an opportunity's first row and each row whose stage differs from the one before
    hist = raw(SALESFORCE / "OpportunityHistory.csv")
    hist = hist[hist["IsDeleted"] != "1"].copy()
    hist["at"] = pd.to_datetime(hist["CreatedDate"])
    hist["order"] = range(len(hist))
    hist = hist.sort_values(["OpportunityId", "at", "order"])
    changed = hist["StageName"] != hist.groupby("OpportunityId")["StageName"].shift()
    events = hist[changed]
    t = tables["deal_stage_events"]
    assert t["rows"] + t["skipped"] == records(SALESFORCE / "OpportunityHistory.csv")
    assert t["rows"] == len(events)
    # events of a rejected opportunity name an opportunity that was not loaded
    orphans = events["OpportunityId"].isin(set(opp.loc[opp["bad"], "Id"]))
    assert (t["accepted"], t["rejected"]) == ((~orphans).sum(), orphans.sum())


# ---- Pipedrive ----------------------------------------------------------------------------------
def test_pipedrive_deals(open_ws) -> None:
    ws = open_ws()
    report = ws.ingest([PIPEDRIVE])
    df = raw(PIPEDRIVE)
    status = df["Deal - Status"].str.lower()
    t = report.to_json()["tables"]["opportunities"]
    assert t["rows"] == records(PIPEDRIVE) == len(df)
    # the export has no won/lost time: a closed deal has no close date and is rejected for it
    assert (t["accepted"], t["rejected"]) == ((status == "open").sum(),
                                              status.isin(["won", "lost"]).sum())
    assert {p.code for p in report.problems} == {"closed_at_required"}
    stages = dict(ws.duckdb.execute(
        "SELECT deal_stage, count(*) FROM opportunities GROUP BY 1").fetchall())
    assert stages == df.loc[status == "open", "Deal - Stage"].value_counts().to_dict()
    created = pd.to_datetime(df.loc[status == "open", "Deal - Deal created"])
    assert ws.duckdb.execute("SELECT min(created_at), max(created_at) FROM opportunities"
                             ).fetchone() == (created.min().to_pydatetime(),
                                              created.max().to_pydatetime())


# ---- Stripe -------------------------------------------------------------------------------------
def stripe_mrr_at(df: pd.DataFrame, next_start: pd.Timestamp) -> float:
    """MRR of subscriptions paying before `next_start` (none has ended in this export)."""
    fmt = "%m/%d/%y %H:%M"
    start = pd.to_datetime(df["Start Date (UTC)"], format=fmt)
    trial = df["Status"] == "trialing"
    start[trial] = pd.to_datetime(df.loc[trial, "Current Period End (UTC)"], format=fmt)
    months = df["Interval"].map({"month": 1, "year": 12})
    mrr = pd.to_numeric(df["Amount"]) * pd.to_numeric(df["Quantity"]) / months
    return float(mrr[start < next_start].sum())


def test_stripe_subscriptions_mrr(open_ws) -> None:
    ws = open_ws(currency="DKK")
    report = ws.ingest([STRIPE])
    df = raw(STRIPE)
    assert report.to_json()["tables"]["subscriptions"] == {
        "rows": len(df), "accepted": len(df), "rejected": 0}
    assert len(df) == records(STRIPE) == 432
    assert set(df["Status"]) == {"active", "trialing", "past_due"}  # none has ended
    for period, next_start in (("2025-11-01", "2025-12-01"), ("2025-12-01", "2026-01-01")):
        got = metric_value(ws, "mrr", period, grain="month", start=period, end=period)
        assert got == pytest.approx(stripe_mrr_at(df, pd.Timestamp(next_start)))
    assert ws.duckdb.execute("SELECT DISTINCT currency FROM subscriptions").fetchall() == [
        ("DKK",)]
