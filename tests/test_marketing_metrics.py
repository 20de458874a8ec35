"""Marketing-cost metrics (catalog/marketing.py, ltv_to_cac and cac_payback_months; SPEC §3).

Expected values are worked out by hand beside each assert. A lead's channel is its campaign's
channel, else its source; a spend row's is its own, else its campaign's; a deal's or a new
customer's is its lead's. Instants are UTC; "Jan 5" is 2026-01-05T00:00Z.
"""

from __future__ import annotations

import pytest
from journeys import by, values

import funnelmetrics
from funnelmetrics.revenue import credit

Q = {"start": "2026-01-01", "end": "2026-02-28"}  # Jan, Feb

SQL = [
    "INSERT INTO campaigns (campaign_id, channel) VALUES ('c1', 'ads'), ('c2', 'email')",
    # L1 ads (its campaign), L2 web (no campaign: its source), L3 email (campaign c2 over its
    # source), L4 web in Feb; L5 web from December (account Z, a customer since Dec 20).
    """INSERT INTO leads (lead_id, created_at, source, campaign_id, account_id) VALUES
       ('L1', '2026-01-02', 'web', 'c1', 'A'), ('L2', '2026-01-03', 'web', NULL, 'B'),
       ('L3', '2026-01-04', 'referral', 'c2', NULL), ('L4', '2026-02-01', 'web', NULL, 'C'),
       ('L5', '2025-12-15', 'web', NULL, 'Z')""",
    # Jan: 100 ads; 50 with only a campaign (c2 → email); 30 with neither (unknown); 200 sales.
    # Feb: 60 web with no category (marketing by default).
    """INSERT INTO spend (date, amount, channel, campaign_id, category) VALUES
       ('2026-01-01', 100, 'ads', 'c1', 'marketing'), ('2026-01-05', 50, NULL, 'c2', 'marketing'),
       ('2026-01-06', 30, NULL, NULL, 'marketing'), ('2026-01-07', 200, NULL, NULL, 'sales'),
       ('2026-02-01', 60, 'web', NULL, NULL)""",
    """INSERT INTO opportunities (opportunity_id, created_at, status, amount, lead_id, account_id,
                                  closed_at) VALUES
       ('O1', '2026-01-10', 'won', 1000, 'L1', 'A', '2026-01-20'),
       ('O2', '2026-01-11', 'lost', 500, 'L2', 'B', '2026-01-25'),
       ('O3', '2026-01-12', 'won', 400, 'L3', NULL, '2026-02-10'),
       ('O4', '2025-12-16', 'won', 300, 'L5', 'Z', '2025-12-20'),
       ('O5', '2026-01-15', 'won', 200, 'L5', 'Z', '2026-01-28')""",
    # B pays from Jan 15 (its deal was lost) and churns Feb 10; A pays from Jan 25; Z from Jan 2.
    """INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at, ended_at) VALUES
       ('S1', 'B', 100, '2026-01-15', '2026-02-10'), ('S2', 'A', 80, '2026-01-25', NULL),
       ('S3', 'Z', 50, '2026-01-02', NULL)""",
]
# New customers (first won deal or first paid subscription, whichever first):
#   A Jan 20 (O1; its subscription came later), B Jan 15 (S1), "lead:L3" Feb 10 (O3, no account),
#   Z Dec 20, 2025 (O4) — so Z is not new in January.
# Acquisition channels: A → L1 → ads; B → its earliest lead L2 → web; L3 → email; Z → L5 → web.


@pytest.fixture
def ws(make_sql_ws):
    """The rows above, on each backend."""
    return make_sql_ws(*SQL)


# ---- cost per lead / opportunity --------------------------------------------------------------
def test_cost_per_lead(ws):
    df = ws.metric("cost_per_lead", **Q)
    # Jan: marketing 100 + 50 + 30 = 180 (the 200 of sales spend is not marketing) / 3 leads.
    # Feb: 60 (no category → marketing) / 1 lead (L4).
    assert values(df) == [60, 60]
    assert list(df.numerator) == [180, 60]


def test_cost_per_lead_by_channel(ws):
    df = ws.metric("cost_per_lead", by="channel", **Q)
    # Jan: ads 100 / L1; email 50 (campaign c2's channel) / L3 (campaign c2 beats source
    # referral); web 0 / L2; unknown: 30 spent, no lead → null.
    assert by(df, "2026-01-01", "channel") == {"ads": 100, "email": 50, "web": 0, None: None}
    assert by(df, "2026-02-01", "channel") == {"ads": None, "email": None, "web": 60, None: None}


def test_cost_per_lead_by_campaign(ws):
    df = ws.metric("cost_per_lead", by="campaign_id", **Q)
    # Jan: c1 100/L1, c2 50/L3, no campaign 30/L2. Feb: no campaign 60/L4.
    assert by(df, "2026-01-01", "campaign_id") == {"c1": 100, "c2": 50, None: 30}
    assert by(df, "2026-02-01", "campaign_id") == {"c1": None, "c2": None, None: 60}


def test_cost_per_opportunity_by_channel(ws):
    df = ws.metric("cost_per_opportunity", by="channel", **Q)
    # Opportunities created in Jan: O1 (L1 ads), O2 (L2 web), O3 (L3 email), O5 (L5 web).
    assert by(df, "2026-01-01", "channel") == {"ads": 100, "email": 50, "web": 0, None: None}
    assert values(ws.metric("cost_per_opportunity", **Q)) == [45, None]  # 180/4; Feb: 60/0


# ---- cac --------------------------------------------------------------------------------------
def test_cac_counts_marketing_and_sales_spend_over_new_customers(ws):
    df = ws.metric("cac", **Q)
    # Jan: (180 + 200) / 2 new customers (A, B; Z is an old customer) = 190.
    # Feb: 60 / 1 (the deal O3 without account).
    assert values(df) == [190, 60]
    assert list(df.denominator) == [2, 1]


def test_cac_by_channel(ws):
    df = ws.metric("cac", by="channel", **Q)
    # Jan: ads 100 / A; web 0 / B (via its lead L2); email 50 / nobody → null; unknown 230 / 0.
    # Feb: email 0 / the L3 customer = 0; web 60 / nobody → null.
    assert by(df, "2026-01-01", "channel") == {"ads": 100, "web": 0, "email": None, None: None}
    assert by(df, "2026-02-01", "channel") == {"ads": None, "web": None, "email": 0, None: None}


def test_cac_payback_months(ws):
    df = ws.metric("cac_payback_months", start="2026-01-01", end="2026-01-31")
    # cac 190; arpa at the end of Jan: (B 100 + A 80 + Z 50) / 3; margin 1.0.
    assert values(df) == [pytest.approx(190 / (230 / 3))]
    df = ws.metric("cac_payback_months", by="channel", start="2026-01-01", end="2026-01-31")
    # ads: cac 100 / arpa of A 80 = 1.25; web: cac 0 / arpa (B 100 + Z 50)/2 = 0.
    assert by(df, "2026-01-01", "channel")["ads"] == pytest.approx(1.25)
    assert by(df, "2026-01-01", "channel")["web"] == 0


def test_ltv_to_cac(ws):
    df = ws.metric("ltv_to_cac", **Q)
    # Jan: no account churned → ltv null → null.
    # Feb: churn rate 1/3 (B of A, B, Z); arpa at the end of Feb (A 80 + Z 50) / 2 = 65;
    # ltv = 65 / (1/3) = 195; cac 60 → 3.25.
    assert values(df) == [None, pytest.approx(3.25)]


# ---- marketing ROI and won revenue -------------------------------------------------------------
def test_marketing_roi_credits_won_revenue_to_the_lead_source_channel(ws):
    # Jan: won O1 1000 + O5 200 = 1200; marketing spend 180 → (1200 − 180)/180.
    # Feb: O3 400 − 60 → 340/60.
    assert values(ws.metric("marketing_roi", **Q)) == [pytest.approx(1020 / 180),
                                                       pytest.approx(340 / 60)]
    df = ws.metric("marketing_roi", by="channel", **Q)
    # Jan: ads (1000 − 100)/100 = 9; email (0 − 50)/50 = −1; unknown (0 − 30)/30 = −1;
    # web: 200 won, no spend → null.
    assert by(df, "2026-01-01", "channel") == {"ads": 9, "email": -1, "web": None, None: -1}


def test_marketing_roi_takes_a_registered_credit_model(ws):
    def half(scope):  # a stand-in attribution model: half of every deal to its lead's channel
        rows = credit.source_credit(scope)
        return rows.mutate(amount=rows.amount * 0.5)

    credit.register_credit_model("half", half)
    try:
        df = ws.metric("marketing_roi", model="half", **Q)
        assert values(df) == [pytest.approx((600 - 180) / 180), pytest.approx((200 - 60) / 60)]
    finally:
        credit.CREDIT_MODELS.pop("half")


def test_marketing_roi_unknown_model_is_a_clear_error(ws):
    with pytest.raises(funnelmetrics.QueryError, match="unknown credit model 'nope'"):
        ws.metric("marketing_roi", model="nope", **Q)


def test_won_revenue_per_channel(ws):
    df = ws.metric("won_revenue", by="channel", **Q)
    # Jan: O1 (ads) 1000, O5 (web, via L5) 200. Feb: O3 (email) 400.
    assert by(df, "2026-01-01", "channel") == {"ads": 1000, "email": 0, "web": 200}
    assert by(df, "2026-02-01", "channel") == {"ads": 0, "email": 400, "web": 0}


def test_leads_split_by_channel_use_the_same_rule(ws):
    df = ws.metric("leads_created", by="channel", **Q)
    assert by(df, "2026-01-01", "channel") == {"ads": 1, "email": 1, "web": 1}
