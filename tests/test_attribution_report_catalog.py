"""The attribution report asks the catalogue for spend and ROI (issue "One semantic model", item 4).

A New York workspace (UTC−5 in January): `spend.date` is a calendar date, read in no time zone,
so the rows dated 2026-01-01 and 2026-01-31 are January's and the one dated 2026-02-01 is not —
whatever instant "2026-01-01 00:00 UTC" is in New York. Conversions are instants: D's win at
2026-02-01 03:00 UTC is 31 January 22:00 in New York (January's); E's at 2026-01-01 03:00 UTC is
31 December 22:00 (not January's).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_attribution_journeys import fill, won

import funnelmetrics
from funnelmetrics.attribution import attribute, attribute_models
from funnelmetrics.workspace import Workspace

JAN = {"start": "2026-01-01", "end": "2026-01-31"}

LEADS = {
    "A": {"created": "2026-01-02T15:00", **won("2026-01-20T15:00", 1000),
          "touches": ["2026-01-03T15:00 ads c1", "2026-01-04T15:00 email c2"]},
    "B": {"created": "2026-01-02T15:00", **won("2026-01-25T15:00", 600),
          "touches": ["2026-01-05T15:00 ads c1"]},
    "C": {"created": "2026-01-03T15:00", **won("2026-01-28T15:00", 200)},  # no touch
    "D": {"created": "2026-01-10T15:00", **won("2026-02-01T03:00", 300),
          "touches": ["2026-01-30T15:00 social"]},
    "E": {"created": "2025-12-01T15:00", **won("2026-01-01T03:00", 5000),
          "touches": ["2025-12-20T15:00 ads c1"]},
}
# (date, amount, channel, campaign_id); c3's channel is social (campaigns table)
SPEND = [
    ("2025-12-31", 999.0, "email", "c2"),  # December
    ("2026-01-01", 100.0, "ads", "c1"),  # January's first day
    ("2026-01-15", 80.0, None, "c3"),  # no channel: its campaign's, social
    ("2026-01-20", 30.0, None, None),  # neither: (unallocated)
    ("2026-01-31", 400.0, "email", "c2"),  # January's last day
    ("2026-01-31", 50.0, "ads", None),
    ("2026-02-01", 70.0, "ads", "c1"),  # February
]


@pytest.fixture
def ws(tmp_path: Path, backend: str) -> Workspace:
    """The journeys on the current backend (made on DuckDB, then copied)."""
    from journeys import _copy_to

    config = funnelmetrics.Config(timezone="America/New_York")
    w = fill(funnelmetrics.open(tmp_path / "w.duckdb", config=config), LEADS, SPEND)
    w.duckdb.execute("insert into campaigns (campaign_id, channel) values "
                     "('c1', 'ads'), ('c2', 'email'), ('c3', 'social')")
    w.duckdb.execute("insert into spend (date, amount, channel, category) values "
                     "('2026-01-10', 1000.0, 'ads', 'sales')")  # sales spend: not marketing's
    if backend != "duckdb":
        copied = _copy_to(w, backend)
        w.close()
        w = copied
    yield w
    w.close()


def rows(df, key: str = "channel") -> dict[str, dict]:
    return {r[key]: {k: (None if v != v else v) for k, v in r.items()}
            for r in df.to_dict("records")}


def test_january_spend_by_channel_in_new_york(ws: Workspace) -> None:
    """ads 100 (Jan 1) + 50 (Jan 31) = 150 — not the Feb 1 70, not the sales 1000; email 400
    (Jan 31; not Dec 31's 999); social 80 (c3's channel); (unallocated) 30."""
    got = rows(attribute(ws, "linear", **JAN))
    assert {k: r["spend"] for k, r in got.items()} == {
        "ads": 150.0, "email": 400.0, "social": 80.0, "(unallocated)": 30.0, "(no touch)": 0.0}


def test_spend_is_cost_per_lead_numerator_and_the_raw_rows(ws: Workspace) -> None:
    report = rows(attribute(ws, "linear", **JAN))
    cpl = ws.metric("cost_per_lead", grain="all", by="channel", **JAN)
    catalogue = {("(unallocated)" if c is None else c): n
                 for c, n in zip(cpl["channel"], cpl["numerator"], strict=True) if n}
    assert catalogue == {k: r["spend"] for k, r in report.items() if r["spend"]}
    spend = ws.table("spend")  # the raw rows, on the workspace's engine
    january = (spend.date >= dt.date(2026, 1, 1)) & (spend.date < dt.date(2026, 2, 1))
    marketing = spend.category.fill_null("marketing") == "marketing"
    raw = float(spend.filter(january & marketing).amount.sum().execute())
    assert raw == 660.0 == sum(r["spend"] for r in report.values())  # 150 + 400 + 80 + 30


def test_credit_roi_and_cost_per_conversion_by_hand(ws: Workspace) -> None:
    """January conversions (New York): A (ads, email: 500 each), B (ads 600), C (no touch,
    200), D (social 300, won at 22:00 on Jan 31 local). E (Dec 31 local) is December's.
    ROI = (credited − spend) / spend: ads (1100 − 150)/150, email (500 − 400)/400,
    social (300 − 80)/80, (unallocated) (0 − 30)/30; cost per conversion spend / credited."""
    got = rows(attribute(ws, "linear", **JAN))
    assert got["ads"]["credited_revenue"] == 1100.0 and got["ads"]["credited_conversions"] == 1.5
    assert got["ads"]["roi"] == pytest.approx(950 / 150)
    assert got["ads"]["cost_per_conversion"] == pytest.approx(100.0)  # 150 / 1.5
    assert got["email"]["roi"] == pytest.approx(0.25)
    assert got["email"]["cost_per_conversion"] == pytest.approx(800.0)  # 400 / 0.5
    assert got["social"]["roi"] == pytest.approx(2.75)
    assert got["(unallocated)"]["roi"] == -1.0
    assert got["(no touch)"]["credited_revenue"] == 200.0 and got["(no touch)"]["roi"] is None


@pytest.mark.parametrize("model", ["first_touch", "last_touch", "linear", "time_decay",
                                   "position_based", "w_shaped", "shapley"])
def test_roi_is_marketing_roi_and_credits_agree(ws: Workspace, model: str) -> None:
    """For conversion=won, marketing_roi's credited revenue (numerator + spend) equals the
    report's, and its value is the report's ROI (deals close at their lead's won instant)."""
    report = rows(attribute(ws, model, **JAN))
    roi = ws.metric("marketing_roi", grain="all", by="channel", **JAN, params={"model": model})
    for r in roi.to_dict("records"):
        key = r["channel"] or "(unallocated)"
        assert r["numerator"] + r["denominator"] == pytest.approx(
            report[key]["credited_revenue"]), key
        assert r["denominator"] == report[key]["spend"], key
        if r["value"] == r["value"]:
            assert report[key]["roi"] == pytest.approx(r["value"]), key
        else:
            assert report[key]["roi"] is None, key


def test_markov_roi_without_a_range_is_the_catalogues(ws: Workspace) -> None:
    """With no range both fit the chain on every journey: the same credit, the same ROI; all
    spend counts (ads 100 + 50 + 70 = 220)."""
    report = rows(attribute(ws, "markov"))
    assert report["ads"]["spend"] == 220.0
    roi = ws.metric("marketing_roi", grain="all", by="channel", start="2025-01-01",
                    end="2026-12-31", params={"model": "markov"})
    for r in roi.to_dict("records"):
        key = r["channel"] or "(unallocated)"
        assert r["numerator"] + r["denominator"] == pytest.approx(
            report[key]["credited_revenue"])
        if r["value"] == r["value"]:
            assert report[key]["roi"] == pytest.approx(r["value"])


def test_by_campaign(ws: Workspace) -> None:
    """c1: A's ads 500 + B's 600 = 1100, spend 100 (Jan 1) → ROI 10; c2: 500 − 400 → 0.25;
    c3: spend 80, no credit → −1; (no campaign): D's social 300, spend 50 + 30 → 2.75 (by
    marketing_roi's formula: the catalogue's null campaign also holds C's no-touch 200)."""
    got = rows(attribute(ws, "linear", by="campaign_id", **JAN), "campaign_id")
    assert {k: r["spend"] for k, r in got.items() if r["spend"]} == {
        "c1": 100.0, "c2": 400.0, "c3": 80.0, "(no campaign)": 80.0}
    assert got["c1"]["roi"] == pytest.approx(10.0)
    assert got["c2"]["roi"] == pytest.approx(0.25)
    assert got["c3"]["roi"] == -1.0
    assert got["(no campaign)"]["credited_revenue"] == 300.0
    assert got["(no campaign)"]["roi"] == pytest.approx(2.75)


def test_options_the_catalogue_does_not_credit_use_its_formula(ws: Workspace) -> None:
    """A 10-day look-back drops A's Jan 3/4 touches (A won Jan 20) and B's Jan 5 touch (won Jan
    25): their 1000 and 600 go to (no touch) with C's 200; ads: 0 credited, spend 150 → −1;
    social (D, touched the day before) 300 → (300 − 80)/80. Conversion sql (no sql event: reached
    at the win, cumulative mode) credits as won does: ads (1100 − 150)/150. time_decay with its
    own half-life: (credited − 400)/400 for email."""
    got = rows(attribute(ws, "linear", lookback_days=10, **JAN))
    assert got["ads"]["credited_revenue"] == 0.0 and got["ads"]["roi"] == -1.0
    assert got["social"]["roi"] == pytest.approx(2.75)
    assert got["(no touch)"]["credited_revenue"] == 1800.0
    sql = rows(attribute(ws, "linear", conversion="sql", **JAN))
    assert sql["ads"]["roi"] == pytest.approx(950 / 150)
    decay = rows(attribute(ws, "time_decay", half_life_days=1, **JAN))
    assert decay["email"]["roi"] == pytest.approx(
        (decay["email"]["credited_revenue"] - 400) / 400)


def test_all_models_share_one_spend(ws: Workspace) -> None:
    results = attribute_models(ws, "all", **JAN)
    for name, df in results.items():
        assert rows(df)["ads"]["spend"] == 150.0, name
        assert sum(df["spend"]) == 660.0, name
