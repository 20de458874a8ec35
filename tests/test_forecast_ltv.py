"""LTV models read from a workspace: survivors per acquisition cohort (sBG) and purchase
summaries per account (BG/NBD), worked out by hand on tiny data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from journeys import _insert, journeys

from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.bgnbd import BetaGeoNBD
from funnelmetrics.forecast.ltv import bgnbd_ltv, per_period_rate, purchase_summary, sbg_cohorts
from funnelmetrics.forecast.sbg import ShiftedBetaGeometric

# Quarterly cohorts. Q1 2025: A Jan 5 → Feb 10 (churns in Q1: renews across no boundary),
# C Mar 1 → Apr 30 (pays past Apr 1: 1), B Feb 1 → Jul 1 (ends at the Jul 1 boundary itself:
# a renewal not made → 1), D from Jan 20 (100 a month), E Feb 2 → Dec 1 (300 a month; still
# active on Oct 1). Q3 2025: G from Aug 1.
SUBSCRIPTIONS = [
    ("SA", "A", 50, "2025-01-05", "2025-02-10"), ("SB", "B", 50, "2025-02-01", "2025-07-01"),
    ("SC", "C", 50, "2025-03-01", "2025-04-30"), ("SD", "D", 100, "2025-01-20", None),
    ("SE", "E", 300, "2025-02-02", "2025-12-01"), ("SG", "G", 80, "2025-08-01", None),
]


@pytest.fixture
def subs_ws(tmp_path: Path):
    ws = journeys(tmp_path)
    keys = ("subscription_id", "account_id", "mrr", "started_at", "ended_at")
    _insert(ws, "subscriptions", [dict(zip(keys, r, strict=True)) for r in SUBSCRIPTIONS])
    yield ws
    ws.close()


def test_sbg_survivors_per_cohort_by_hand(subs_ws) -> None:
    rows = sbg_cohorts(subs_ws, unit="quarter", as_of=dt.datetime(2025, 10, 1), draws=20)
    q1, q3 = rows
    # as of Oct 1: boundaries Apr 1, Jul 1, Oct 1 observed; lifetimes A 0, C 1, B 1, D and E
    # open → survivors 5, 4 (C B D E), 2 (D E), 2
    assert q1["cohort"] == "2025-01-01"
    assert q1["survivors"] == [5, 4, 2, 2]
    assert q1["active"] == 2 and q1["mrr"] == pytest.approx((100 + 300) / 2)
    m = ShiftedBetaGeometric().fit([5, 4, 2, 2])
    assert q1["alpha"] == pytest.approx(m.alpha_) and q1["beta"] == pytest.approx(m.beta_)
    # LTV = margin (1.0) × MRR 200 × 3 months × DERL after 3 renewals, 10% a year discount
    d = per_period_rate(0.10, 3)
    assert d == pytest.approx(1.1 ** 0.25 - 1)
    assert q1["derl"] == pytest.approx(m.derl(3, discount_rate=d))
    assert q1["ltv"] == pytest.approx(200 * 3 * q1["derl"])
    assert q1["ltv_p10"] <= q1["ltv_p90"]
    assert q1["survival"][:4] == pytest.approx(list(m.survival(3)))
    # Q3's cohort has seen one quarter end: nothing to fit, said so
    assert q3["cohort"] == "2025-07-01" and q3["survivors"] == [1, 1]
    assert q3["alpha"] is None and "fewer than 2" in q3["note"]


def test_sbg_sees_only_what_was_known_at_the_instant(subs_ws) -> None:
    (q1,) = sbg_cohorts(subs_ws, unit="quarter", as_of=dt.datetime(2025, 7, 1), draws=0)
    # on Jul 1, B's end is not known yet (it ends at that instant): open, like D and E
    assert q1["survivors"] == [5, 4, 3]
    assert q1["active"] == 3


def test_high_end_segment_from_raw_subscriptions(tmp_path: Path) -> None:
    # Fader & Hardie (2007), High End: 1000 customers from Jan 1, 2000; those lost at each
    # yearly renewal (1000-869, 869-743, …) end on Jan 1 of the year they do not renew
    lost = [131, 126, 90, 60, 42, 34, 26]  # 491 still pay in 2007
    ends = [f"{2001 + k}-01-01" for k, n in enumerate(lost) for _ in range(n)]
    ends += [None] * 491
    ws = journeys(tmp_path)
    try:
        _insert(ws, "subscriptions", [
            {"subscription_id": f"S{i}", "account_id": f"A{i}", "mrr": 10,
             "started_at": "2000-01-01", "ended_at": end} for i, end in enumerate(ends)])
        (row,) = sbg_cohorts(ws, unit="year", as_of=dt.datetime(2007, 6, 1), draws=0)
    finally:
        ws.close()
    assert row["survivors"] == [1000, 869, 743, 653, 593, 551, 517, 491]
    assert row["alpha"] == pytest.approx(0.668, abs=5e-4)
    assert row["beta"] == pytest.approx(3.806, abs=5e-4)
    assert row["log_likelihood"] == pytest.approx(-1611.2, abs=0.05)
    assert row["survival"][8:13] == pytest.approx([0.460, 0.436, 0.414, 0.395, 0.378],
                                                  abs=5e-4)


def test_sbg_refuses_an_unknown_unit(subs_ws) -> None:
    with pytest.raises(QueryError, match="--unit 'week'"):
        sbg_cohorts(subs_ws, unit="week")


# Won deals per account (closed_at; amount):
#   K  Jan 1 (100), Jan 1 (50, same day: one purchase), Jan 15 (40), Jan 29 (60)
#   L  Jan 8 (70)
#   M  Jan 1 (30), Jan 22 (90); Feb 20 (500, after the calibration end)
#   N  lost on Jan 10 (no purchase)
DEALS = [("K", "2025-01-01", 100, "won"), ("K", "2025-01-01", 50, "won"),
         ("K", "2025-01-15", 40, "won"), ("K", "2025-01-29", 60, "won"),
         ("L", "2025-01-08", 70, "won"), ("M", "2025-01-01", 30, "won"),
         ("M", "2025-01-22", 90, "won"), ("M", "2025-02-20", 500, "won"),
         ("N", "2025-01-10", 10, "lost")]


@pytest.fixture
def deals_ws(tmp_path: Path):
    ws = journeys(tmp_path, opportunities=[
        {"account_id": a, "created_at": "2024-12-01", "closed_at": c, "amount": amt,
         "status": s} for a, c, amt, s in DEALS])
    yield ws
    ws.close()


def test_purchase_summary_by_hand(deals_ws) -> None:
    s = purchase_summary(deals_ws, unit="week", calibration_end=dt.date(2025, 1, 29))
    assert list(s["account_id"]) == ["K", "L", "M"]
    # K: days Jan 1, 15, 29 → x 2, t_x 28 days = 4 weeks, T 4 weeks, z̄ (40 + 60)/2 = 50
    # L: x 0, T 21 days = 3 weeks; M: x 1, t_x 3 weeks, T 4 weeks, z̄ 90 (Feb 20 is later)
    assert list(s["x"]) == [2, 0, 1]
    assert list(s["t_x"]) == pytest.approx([4, 0, 3])
    assert list(s["T"]) == pytest.approx([4, 3, 4])
    assert list(s["zbar"]) == pytest.approx([50, 0, 90])


def test_bgnbd_from_the_workspace_is_the_model_on_its_summary(deals_ws) -> None:
    end = dt.date(2025, 1, 29)
    out = bgnbd_ltv(deals_ws, unit="week", calibration_end=end, by_account=True, draws=10)
    s = purchase_summary(deals_ws, unit="week", calibration_end=end)
    m = BetaGeoNBD().fit(s["x"], s["t_x"], s["T"])
    assert out["r"] == pytest.approx(m.r_, rel=1e-6)
    assert out["log_likelihood"] == pytest.approx(m.log_likelihood_)
    assert out["accounts"] == 3 and out["repeat_accounts"] == 2
    rows = {r["account_id"]: r for r in out["rows"]}
    assert rows["L"]["p_alive"] == 1.0  # no repeat purchase: alive under the BG/NBD
    assert rows["K"]["expected_purchases"] == pytest.approx(
        float(m.expected_purchases(12 * 365.25 / 12 / 7, 2, 4, 4)))


def test_bgnbd_without_repeat_purchases_is_one_line(deals_ws) -> None:
    with pytest.raises(QueryError, match="repeat purchase"):
        bgnbd_ltv(deals_ws, unit="week", calibration_end=dt.date(2025, 1, 10))


def test_cdnow_from_raw_transactions_reproduces_the_papers(tmp_path: Path) -> None:
    # the 2,357 CDNOW sample customers' raw purchases (tests/fixtures/ltv/README.md) as won
    # deals; calibration to 1997-09-30 (week 39), weeks: Fader, Hardie & Lee (2005) Table 1 and
    # Fader & Hardie (2013)
    import csv

    path = Path(__file__).parent / "fixtures" / "ltv" / "cdnow_sample_transactions.csv"
    with path.open() as f:
        rows = list(csv.DictReader(f))
    ws = journeys(tmp_path)
    try:
        _insert(ws, "opportunities", [
            {"opportunity_id": f"T{i}", "account_id": r["customer"], "created_at": r["date"],
             "closed_at": r["date"], "status": "won", "amount": float(r["amount"])}
            for i, r in enumerate(rows)])
        out = bgnbd_ltv(ws, unit="week", calibration_end=dt.date(1997, 9, 30), draws=0)
    finally:
        ws.close()
    assert (out["accounts"], out["repeat_accounts"]) == (2357, 946)
    assert out["r"] == pytest.approx(0.243, abs=5e-4)
    assert out["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert out["a"] == pytest.approx(0.793, abs=5e-4)
    assert out["b"] == pytest.approx(2.426, abs=5e-3)
    assert out["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert (out["p"], out["q"], out["v"]) == pytest.approx((6.25, 3.74, 15.44), abs=1e-2)
