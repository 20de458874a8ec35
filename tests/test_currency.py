"""Amounts in the reporting currency (SPEC §2 `currency` + `fx_rates`; funnelmetrics/semantic/currency.py).

An amount converts at the latest rate of its currency dated on or before the transaction's date:
opportunities at closed_at (created_at while open), subscriptions at started_at, spend at date.
A row in the reporting currency or with no currency is left as it is. Expected values by hand.
"""

from __future__ import annotations

import math

import pytest

import funnelmetrics

RATES = """INSERT INTO fx_rates VALUES ('EUR', '2026-01-01', 1.1), ('EUR', '2026-02-01', 1.2),
           ('EUR', '2026-02-20', 1.3)"""


def values(df) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in df["value"]]


# The reporting currency is USD (the default) unless a test says otherwise.
# On engines without an ASOF join (Spark, PostgreSQL) the rates join by a window
# (semantic/currency.py rate_on_or_before): the same figures everywhere.
DEALS = (
    RATES,
    "INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, "
    "currency) VALUES "
    "('O1', '2026-01-01', 'won', 100, '2026-01-15', 'EUR'),"   # Jan 15: rate of Jan 1, 1.1
    "('O2', '2026-01-01', 'won', 100, '2026-02-01', 'eur'),"   # Feb 1: the rate of that day
    "('O3', '2026-01-01', 'won', 100, '2026-01-15', NULL),"    # no currency: as it is
    "('O4', '2026-01-01', 'won', 100, '2026-01-15', 'USD'),"   # reporting currency
    "('O5', '2026-01-20', 'open', 100, NULL, 'EUR')",          # open: created_at Jan 20
)


def test_won_amounts_convert_at_the_close_date(make_sql_ws):
    ws = make_sql_ws(*DEALS)
    df = ws.metric("won_revenue", start="2026-01-01", end="2026-02-28")
    # Jan: O1 100 × 1.1 + O3 100 + O4 100 = 310. Feb: O2 100 × 1.2 (lower-case code) = 120.
    assert values(df) == [pytest.approx(310), pytest.approx(120)]


def test_open_deals_convert_at_their_creation_date(make_sql_ws):
    ws = make_sql_ws(*DEALS)
    df = ws.metric("pipeline_value", start="2026-01-01", end="2026-02-28")
    # Open at the end of Jan: O2 (closes Feb 1; converted at its close date, 1.2) + O5
    # (open, created Jan 20, 1.1) = 120 + 110. End of Feb: O5 = 110.
    assert values(df) == [pytest.approx(230), pytest.approx(110)]


def test_as_of_a_deal_still_open_converts_at_creation(make_sql_ws):
    ws = make_sql_ws(*DEALS)
    df = ws.metric("pipeline_value", start="2026-01-01", end="2026-01-31", as_of="2026-01-25")
    # As of Jan 25, O2 is open (closed later): created Jan 1 → 1.1. O1, O3, O4 closed Jan 15.
    # 110 (O2) + 110 (O5) = 220.
    assert values(df) == [pytest.approx(220)]


def test_subscriptions_convert_at_their_start(make_sql_ws):
    ws = make_sql_ws(
        RATES,
        "INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at, currency) "
        "VALUES ('S1', 'A', 100, '2026-01-10', 'EUR'), ('S2', 'B', 50, '2026-02-25', 'EUR')")
    df = ws.metric("mrr", start="2026-01-01", end="2026-02-28")
    # Jan: S1 at the Jan 1 rate = 110 (kept at its start rate later). Feb: 110 + 50 × 1.3.
    assert values(df) == [pytest.approx(110), pytest.approx(175)]


def test_spend_converts_at_its_date_and_a_row_without_currency_stays(make_sql_ws):
    ws = make_sql_ws(
        RATES,
        "INSERT INTO spend (date, amount, channel, currency) VALUES "
        "('2026-01-31', 100, 'ads', 'EUR'), ('2026-02-19', 10, 'ads', 'EUR'), "
        "('2026-02-20', 10, 'ads', 'EUR'), ('2026-02-21', 5, 'ads', NULL)",
        "INSERT INTO leads (lead_id, created_at) VALUES ('L1', '2026-01-05'), "
        "('L2', '2026-02-05')")
    df = ws.metric("cost_per_lead", start="2026-01-01", end="2026-02-28")
    # Jan: 100 × 1.1 / 1 lead. Feb: 10 × 1.2 + 10 × 1.3 (rate dated that very day) + 5 = 30.
    assert list(df.numerator) == [pytest.approx(110), pytest.approx(30)]


def test_missing_rate_is_a_clear_error(make_sql_ws):
    ws = make_sql_ws(
        RATES,
        "INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, "
        "currency) VALUES ('O1', '2026-01-01', 'won', 100, '2026-01-15', 'SGD'), "
        "('O2', '2025-12-01', 'won', 100, '2025-12-31', 'EUR')")  # before the first EUR rate
    with pytest.raises(funnelmetrics.QueryError) as err:
        ws.metric("won_revenue", start="2026-01-01", end="2026-01-31")
    message = str(err.value)
    # The earliest row without a rate is named: EUR on 2025-12-31.
    assert "no exchange rate for EUR on or before 2025-12-31" in message
    assert "fx_rates" in message


def test_missing_rate_names_the_currency(make_sql_ws):
    ws = make_sql_ws(
        "INSERT INTO spend (date, amount, currency) VALUES ('2026-03-05', 10, 'SGD')")
    with pytest.raises(funnelmetrics.QueryError, match="SGD on or before 2026-03-05"):
        ws.metric("cost_per_lead", start="2026-03-01", end="2026-03-31")


HOME_ONLY = ("INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, "
             "currency) VALUES ('O1', '2026-01-01', 'won', 100, '2026-01-15', 'USD'), "
             "('O2', '2026-01-01', 'won', 100, '2026-01-15', NULL)")


def test_no_foreign_row_means_no_rate_join(make_sql_ws):
    home = make_sql_ws(HOME_ONLY)
    sql = home.explain("won_revenue", start="2026-01-01", end="2026-01-31")
    assert "fx_rates" not in sql  # the probe found nothing foreign: no fx join at all
    assert values(home.metric("won_revenue", start="2026-01-01", end="2026-01-31")) == [200]


def test_a_foreign_row_joins_the_rates(make_sql_ws):
    sql = make_sql_ws(*DEALS).explain("won_revenue", start="2026-01-01", end="2026-01-31")
    assert "fx_rates" in sql


@pytest.mark.duckdb_only("ASOF JOIN is DuckDB's SQL; other engines join the rates another way")
def test_rates_are_an_asof_join_on_duckdb(make_sql_ws):
    sql = make_sql_ws(*DEALS).explain("won_revenue", start="2026-01-01", end="2026-01-31")
    assert "ASOF" in sql.upper()


def test_another_reporting_currency(make_sql_ws):
    ws = make_sql_ws(
        "INSERT INTO fx_rates VALUES ('USD', '2026-01-01', 16000)",
        "INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, "
        "currency) VALUES ('O1', '2026-01-01', 'won', 2, '2026-01-15', 'USD'), "
        "('O2', '2026-01-01', 'won', 1000, '2026-01-15', 'IDR')",
        config=funnelmetrics.Config(currency="IDR"))
    df = ws.metric("won_revenue", start="2026-01-01", end="2026-01-31")
    assert values(df) == [33000]  # 2 × 16 000 + 1 000 (already rupiah)
