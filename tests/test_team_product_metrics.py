"""Team and product-led metrics (catalog/team.py, catalog/product.py, quota_attainment; SPEC §3).

Expected values are worked out by hand beside each assert. Instants are UTC.
"""

from __future__ import annotations

import pytest
from journeys import by, values

from funnelmetrics.config import Config

Q = {"start": "2026-01-01", "end": "2026-02-28"}


# ---- eNPS -------------------------------------------------------------------------------------
SURVEY = """INSERT INTO survey_responses VALUES
    ('q1', 'e1', '2026-01-10', 10, 'east'), ('q1', 'e2', '2026-01-10', 9, 'east'),
    ('q1', 'e3', '2026-01-11', 7, 'west'), ('q1', 'e4', '2026-01-12', 3, 'west'),
    ('q1', 'e5', '2026-01-12', 6, 'east'), ('q2', 'e1', '2026-02-01', 8, 'east')"""


ANY_GROUP = Config(enps_min_respondents=1)  # the arithmetic on groups of any size


def test_enps_promoters_minus_detractors(make_sql_ws):
    ws = make_sql_ws(SURVEY, config=ANY_GROUP)
    df = ws.metric("enps", **Q)
    # Jan: promoters e1 (10), e2 (9); detractors e4 (3), e5 (6, the top of 0–6); passive e3 (7).
    # (2 − 2)/5 × 100 = 0. Feb (Feb 1 belongs to February): one passive → (0 − 0)/1 = 0.
    assert values(df) == [0, 0]
    assert list(df.denominator) == [5, 1]


def test_enps_by_team(make_sql_ws):
    ws = make_sql_ws(SURVEY, config=ANY_GROUP)
    df = ws.metric("enps", by="team", start="2026-01-01", end="2026-01-31")
    # east: e1, e2 promoters, e5 detractor → (2 − 1)/3 × 100; west: e3 passive, e4 detractor
    # → (0 − 1)/2 × 100 = −50.
    assert by(df, "2026-01-01", "team") == {"east": pytest.approx(100 / 3), "west": -50}


def test_enps_without_responses_is_null(make_sql_ws):
    ws = make_sql_ws(SURVEY)
    df = ws.metric("enps", start="2026-03-01", end="2026-03-31")
    assert values(df) == [None]  # no responses in March: no data, not 0
    assert list(df.note) == [None]  # nobody to protect: no note


def test_enps_of_fewer_than_five_respondents_is_null_with_a_note(make_sql_ws):
    ws = make_sql_ws(SURVEY)  # default: at least 5 respondents
    df = ws.metric("enps", **Q)
    # Jan: e1..e5, 5 respondents → shown, (2 − 2)/5 = 0. Feb: e1 alone → not shown.
    assert values(df) == [0, None]
    assert df.numerator.isna().tolist() == [False, True]
    assert list(df.denominator) == [5, 1]
    assert list(df.note) == [None, "fewer than 5 respondents: not shown (enps_min_respondents)"]
    # split by team: east 3 (e1, e2, e5) and west 2 (e3, e4) respondents, both under 5
    df = ws.metric("enps", by="team", start="2026-01-01", end="2026-01-31")
    assert by(df, "2026-01-01", "team") == {"east": None, "west": None}
    assert df.note.notna().all()
    # a filter that leaves 3 respondents is a group of 3 too
    df = ws.metric("enps", where={"team": "east"}, start="2026-01-01", end="2026-01-31")
    assert values(df) == [None]


def test_enps_counts_respondents_not_responses(make_sql_ws):
    # the quarter holds 6 responses but 5 respondents (e1 twice): at least 5 → shown;
    # promoters e1 (10), e2 (9); detractors e4, e5; passives e3, e1 (8) → (2 − 2)/6 = 0
    ws = make_sql_ws(SURVEY)
    df = ws.metric("enps", grain="quarter", start="2026-01-01", end="2026-03-31")
    assert values(df) == [0] and list(df.denominator) == [6]
    # with a threshold of 6 the same quarter is not shown: 6 responses, 5 people
    ws = make_sql_ws(SURVEY, config=Config(enps_min_respondents=6))
    df = ws.metric("enps", grain="quarter", start="2026-01-01", end="2026-03-31")
    assert values(df) == [None] and df.note.iloc[0].startswith("fewer than 6 respondents")


# ---- quota attainment by rep and team -----------------------------------------------------------
def test_quota_attainment_by_rep_and_team(make_sql_ws):
    ws = make_sql_ws(
        "INSERT INTO reps (rep_id, team) VALUES ('r1', 'east'), ('r2', 'west'), ('r3', 'east')",
        "INSERT INTO quotas VALUES ('r1', '2026-01-01', '2026-01-31', 2000), "
        "('r2', '2026-01-01', '2026-01-31', 1000), ('r3', '2026-01-01', '2026-01-31', 1000)",
        "INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, "
        "rep_id) VALUES ('O1', '2026-01-02', 'won', 1000, '2026-01-20', 'r1'), "
        "('O2', '2026-01-02', 'won', 500, '2026-01-21', 'r2'), "
        "('O3', '2026-01-02', 'won', 1500, '2026-01-22', 'r3'), "
        "('O4', '2026-01-02', 'lost', 900, '2026-01-23', 'r3')")
    jan = {"start": "2026-01-01", "end": "2026-01-31"}
    df = ws.metric("quota_attainment", by="rep_id", **jan)
    # r1 1000/2000, r2 500/1000, r3 1500/1000 (the lost deal adds nothing).
    assert by(df, "2026-01-01", "rep_id") == {"r1": 0.5, "r2": 0.5, "r3": 1.5}
    df = ws.metric("quota_attainment", by="team", **jan)
    # east: (1000 + 1500)/(2000 + 1000); west: 500/1000.
    assert by(df, "2026-01-01", "team") == {"east": pytest.approx(2500 / 3000), "west": 0.5}


# ---- product-led funnel ------------------------------------------------------------------------
# signup is the lead's created_at (first stage of the product funnel).
# P1: signup Jan 1, activated Jan 5, trial Jan 6, paid Jan 20
# P2: signup Jan 2, trial Jan 10 (skips activated: reaches it cumulatively at Jan 10)
# P3: signup Jan 3, activated Feb 1
# P4: signup Jan 4, trial Jan 5, paid Sep 1 (after the 180-day window: not converted)
PRODUCT = (
    "INSERT INTO leads (lead_id, created_at) VALUES ('P1', '2026-01-01'), "
    "('P2', '2026-01-02'), ('P3', '2026-01-03'), ('P4', '2026-01-04')",
    "INSERT INTO stage_events VALUES ('P1', 'activated', '2026-01-05'), "
    "('P1', 'trial', '2026-01-06'), ('P1', 'paid', '2026-01-20'), "
    "('P2', 'trial', '2026-01-10'), ('P3', 'activated', '2026-02-01'), "
    "('P4', 'trial', '2026-01-05'), ('P4', 'paid', '2026-09-01')",
)


def test_trial_to_paid_rate(make_sql_ws):
    ws = make_sql_ws(*PRODUCT)
    df = ws.metric("trial_to_paid_rate", **Q)
    # Jan trials: P1, P2, P4. Paid within 180 days: P1 only (P4 pays after 239 days) → 1/3.
    assert values(df) == [pytest.approx(1 / 3), None]
    assert list(df.denominator) == [3, 0]


def test_activation_rate(make_sql_ws):
    ws = make_sql_ws(*PRODUCT)
    df = ws.metric("activation_rate", **Q)
    # Jan sign-ups: P1..P4. Activated (or a later stage, cumulative): P1 (Jan 5), P2 (trial
    # Jan 10), P3 (Feb 1), P4 (trial Jan 5) → 4/4.
    assert values(df) == [1, None]
    df = ws.metric("activation_rate", mode="strict", **Q)
    assert values(df) == [0.5, None]  # strict: only P1 and P3 have the activated event itself


# ---- engagement score --------------------------------------------------------------------------
ENGAGEMENT = (
    "INSERT INTO accounts (account_id, segment) VALUES ('A', 'SMB'), ('B', 'ENT'), "
    "('C', 'SMB'), ('D', 'ENT')",
    "INSERT INTO engagement_events (account_id, occurred_at, event, weight) VALUES "
    "('A', '2026-01-02', 'login', 1), ('A', '2026-01-03', 'login', 1), "
    "('B', '2026-01-05', 'report', 5), ('C', '2026-01-06', 'login', NULL), "
    "('A', '2026-02-01', 'login', 1)",
    # D pays but has no events: it is one of January's and February's accounts, with score 0.
    "INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at) "
    "VALUES ('S1', 'D', 10, '2026-01-01')",
)


def test_engagement_score_per_account(make_sql_ws):
    ws = make_sql_ws(*ENGAGEMENT)
    df = ws.metric("engagement_score", by="account_id", **Q)
    # Jan weighted events: A 2, B 5, C 1 (no weight → 1), D 0. cume_dist over 4 accounts:
    # C 2/4, A 3/4, B 4/4; D has none → 0.
    assert by(df, "2026-01-01", "account_id") == {"A": 75, "B": 100, "C": 50, "D": 0}
    # Feb: A 1 (Feb 1 is February's), D 0 → A 2/2 = 100; B and C are not accounts of Feb.
    assert by(df, "2026-02-01", "account_id") == {"A": 100, "B": None, "C": None, "D": 0}


def test_engagement_score_mean_without_by(make_sql_ws):
    ws = make_sql_ws(*ENGAGEMENT)
    # Jan: (75 + 100 + 50 + 0)/4 = 56.25; Feb: (100 + 0)/2 = 50.
    assert values(ws.metric("engagement_score", **Q)) == [56.25, 50]


def test_engagement_scores_are_ranked_before_a_filter(make_sql_ws):
    ws = make_sql_ws(*ENGAGEMENT)
    df = ws.metric("engagement_score", where={"segment": "SMB"}, start="2026-01-01",
                   end="2026-01-31")
    # SMB: A 75 and C 50, ranked among all four accounts → mean 62.5 (not re-ranked within SMB).
    assert values(df) == [62.5]
    df = ws.metric("engagement_score", by="segment", start="2026-01-01", end="2026-01-31")
    assert by(df, "2026-01-01", "segment") == {"SMB": 62.5, "ENT": 50}  # ENT: B 100, D 0
