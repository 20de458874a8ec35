"""Unknown is not zero (issue 13 item 4): an opportunity without an amount is kept with amount
null; amount metrics leave it out, count metrics keep it, and an average or a pipeline over only
unknown amounts is null, never 0. Every expected value is worked out by hand beside its assert.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from journeys import row_for

import funnelmetrics

JAN = {"start": "2026-01-01", "end": "2026-01-31"}
FEB = {"start": "2026-02-01", "end": "2026-02-28"}
LEADS = {"A": [("lead", "2026-01-01")], "B": [("lead", "2026-01-02")]}

# id  created  status closed   amount contract
# K1  Jan 2    won    Jan 12   1200   24        (10 days)
# K2  Jan 3    won    Jan 23   —      —         (20 days)  unknown amount
# K3  Jan 4    lost   Jan 20   300    —
# K4  Jan 5    open   —        —      —         unknown amount
# K5  Jan 6    open   —        500    —
# U1  Feb 2    won    Feb 10   —      —         February: only unknown amounts
# U2  Feb 3    open   —        —      —
DEALS = [
    dict(opportunity_id="K1", lead_id="A", created_at="2026-01-02", status="won",
         closed_at="2026-01-12", amount=1200, contract_months=24),
    dict(opportunity_id="K2", lead_id="B", created_at="2026-01-03", status="won",
         closed_at="2026-01-23", amount=None),
    dict(opportunity_id="K3", created_at="2026-01-04", status="lost", closed_at="2026-01-20",
         amount=300),
    dict(opportunity_id="K4", created_at="2026-01-05", status="open", amount=None),
    dict(opportunity_id="K5", created_at="2026-01-06", status="open", amount=500),
]
FEB_ONLY = [
    dict(opportunity_id="U1", created_at="2026-02-02", status="won", closed_at="2026-02-10",
         amount=None),
    dict(opportunity_id="U2", created_at="2026-02-03", status="open", amount=None),
]


def null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def value(df, period: str) -> object:
    v = row_for(df, period)["value"]
    return None if null(v) else v


@pytest.fixture
def deals(make_ws):
    return make_ws(LEADS, opportunities=DEALS)


@pytest.fixture
def unknown_only(make_ws):
    return make_ws(LEADS, opportunities=FEB_ONLY)


def test_average_deal_size_divides_by_known_amounts_only(deals):
    # won in Jan: K1 1200 and K2 unknown → 1200 / 1 (not 1200 / 2 = 600)
    assert value(deals.metric("average_deal_size", grain="month", **JAN), "2026-01-01") == 1200


def test_average_deal_size_over_only_unknown_amounts_is_null(unknown_only):
    assert value(unknown_only.metric("average_deal_size", grain="month", **FEB),
                 "2026-02-01") is None


def test_pipeline_value_leaves_unknown_amounts_out(deals):
    # open at Jan 31: K4 (unknown) and K5 500 → 500
    assert value(deals.metric("pipeline_value", grain="month", **JAN), "2026-01-01") == 500


def test_pipeline_value_over_only_unknown_amounts_is_null(unknown_only):
    # open at Feb 28: U2 only, amount unknown → null, not 0
    df = unknown_only.metric("pipeline_value", grain="month", **FEB)
    assert value(df, "2026-02-01") is None
    weighted = unknown_only.metric("weighted_pipeline_value", grain="month", **FEB)
    assert value(weighted, "2026-02-01") is None


def test_pipeline_value_without_open_deals_is_zero(unknown_only):
    # January: no opportunity exists yet → a pipeline of 0 (known to be empty)
    df = unknown_only.metric("pipeline_value", grain="month", **JAN)
    assert value(df, "2026-01-01") == 0


def test_acv_and_tcv_leave_unknown_amounts_out(deals):
    # K1 only: ACV 1200 / max(24, 12) × 12 = 600; TCV 1200 (K2's unknown amount is left out)
    assert value(deals.metric("acv", grain="month", **JAN), "2026-01-01") == 600
    assert value(deals.metric("tcv", grain="month", **JAN), "2026-01-01") == 1200


def test_won_revenue_sums_known_amounts(deals):
    assert value(deals.metric("won_revenue", grain="month", **JAN), "2026-01-01") == 1200


def test_count_metrics_keep_unknown_amounts(deals):
    # closed in Jan: K1 won, K2 won (unknown amount), K3 lost → win rate 2/3
    assert value(deals.metric("win_rate", grain="month", **JAN), "2026-01-01") == \
        pytest.approx(2 / 3)


def test_sales_velocity_uses_the_average_of_known_amounts(deals):
    # open at Jan 31: K4, K5 → 2; win rate 2/3 (every closed deal); average deal size 1200
    # (K1, the only won deal with an amount); mean cycle of won deals (10 + 20) / 2 = 15 days
    # → 2 × 2/3 × 1200 / 15 = 106.67 per day
    df = deals.metric("sales_velocity", grain="month", **JAN)
    assert value(df, "2026-01-01") == pytest.approx(2 * (2 / 3) * 1200 / 15)


def test_an_opportunity_without_an_amount_is_loaded(tmp_path: Path):
    path = tmp_path / "opportunities.csv"
    path.write_text("opportunity_id,created_at,status,amount\nO1,2026-01-01,open,\n"
                    "O2,2026-01-01,open,10\n", encoding="utf-8")
    with funnelmetrics.open(tmp_path / "w.duckdb") as ws:
        assert ws.ingest([path]).rejected == 0
        assert ws.duckdb.execute("SELECT opportunity_id, amount FROM opportunities "
                                 "ORDER BY 1").fetchall() == [("O1", None), ("O2", 10.0)]
