"""Rule-based attribution models on tiny journeys, credits worked out by hand (issue #4 §1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_attribution_journeys import credits, journeys_for, won

from funnelmetrics.attribution import (
    TimeDecay,
    WShaped,
    attribute,
    build_journeys,
)
from funnelmetrics.errors import QueryError

# Lead A: created Jan 10, opportunity created Jan 22, won Feb 1 for 1000. Five touches:
#   Jan 1 ads (first) · Jan 10 email (at creation: the lead touch) · Jan 15 social ·
#   Jan 20 ads (last before the opportunity: the opportunity touch) · Jan 25 webinar (last)
LEAD_A = {"A": {"created": "2026-01-10", "touches": [
    "2026-01-01 ads", "2026-01-10 email", "2026-01-15 social", "2026-01-20 ads",
    "2026-01-25 webinar"], **won("2026-02-01", 1000)}}

EXPECTED_A = {
    # all to Jan 1 ads
    "first_touch": {"ads": (1.0, 1000.0)},
    # all to Jan 25 webinar
    "last_touch": {"webinar": (1.0, 1000.0)},
    # 1/5 per touch; ads was touched twice
    "linear": {"ads": (0.4, 400.0), "email": (0.2, 200.0), "social": (0.2, 200.0),
               "webinar": (0.2, 200.0)},
    # first 0.4 (ads), last 0.4 (webinar), 0.2 / 3 to email, social, ads (Jan 20)
    "position_based": {"ads": (0.466666667, 466.666667), "email": (0.066666667, 66.666667),
                       "social": (0.066666667, 66.666667), "webinar": (0.4, 400.0)},
    # 0.3 first (ads) + 0.3 lead (email) + 0.3 opportunity (ads Jan 20); 0.1 / 2 to the rest
    "w_shaped": {"ads": (0.6, 600.0), "email": (0.3, 300.0), "social": (0.05, 50.0),
                 "webinar": (0.05, 50.0)},
}


@pytest.mark.parametrize("model", list(EXPECTED_A))
def test_rules_on_one_journey(backend: str, tmp_path: Path, model: str) -> None:
    with journeys_for(tmp_path, LEAD_A, backend=backend) as ws:
        assert credits(attribute(ws, model)) == EXPECTED_A[model]


def test_time_decay_halves_every_half_life(backend: str, tmp_path: Path) -> None:
    """Won Feb 1 for 1500; touches 21, 14, 7 and 0 days before: raw weights 2^-3, 2^-2, 2^-1,
    2^0 = 1/8, 1/4, 1/2, 1 (sum 15/8) → shares 1/15, 2/15, 4/15, 8/15. ads holds the first and
    the last: 9/15 = 0.6 → 900; email 2/15 → 200; social 4/15 → 400."""
    lead = {"A": {"created": "2026-01-01", "touches": [
        "2026-01-11 ads", "2026-01-18 email", "2026-01-25 social", "2026-02-01 ads"],
        **won("2026-02-01", 1500)}}
    with journeys_for(tmp_path, lead, backend=backend) as ws:
        assert credits(attribute(ws, "time_decay")) == {
            "ads": (0.6, 900.0), "email": (0.133333333, 200.0), "social": (0.266666667, 400.0)}
        # half-life 14 days: 2^-1.5, 2^-1, 2^-0.5, 1 → ads (2^-1.5 + 1) / total
        raw = [2 ** -1.5, 2 ** -1, 2 ** -0.5, 1.0]
        ads = (raw[0] + raw[3]) / sum(raw)
        got = credits(attribute(ws, TimeDecay(half_life_days=14)))
        assert got["ads"][0] == pytest.approx(ads, abs=1e-9)


def test_time_decay_is_relative_to_the_conversion_not_the_calendar(backend: str,
                                                                   tmp_path: Path) -> None:
    """Touches 20 years before the conversion still share the credit (no underflow): two touches
    7 days apart → 1/3 and 2/3."""
    lead = {"A": {"created": "2000-01-01", "touches": ["2000-01-01 ads", "2000-01-08 email"],
                  **won("2026-02-01", 3)}}
    with journeys_for(tmp_path, lead, backend=backend) as ws:
        assert credits(attribute(ws, "time_decay")) == {"ads": (0.333333333, 1.0),
                                                        "email": (0.666666667, 2.0)}


@pytest.mark.parametrize(("touches", "expected"), [
    (["2026-01-02 ads"], {"ads": (1.0, 10.0)}),  # one touch: everything
    (["2026-01-02 ads", "2026-01-03 email"], {"ads": (0.5, 5.0), "email": (0.5, 5.0)}),
    (["2026-01-02 ads", "2026-01-03 email", "2026-01-04 social"],  # 40 / 20 / 40
     {"ads": (0.4, 4.0), "email": (0.2, 2.0), "social": (0.4, 4.0)}),
])
def test_position_based_short_journeys(backend: str, tmp_path: Path, touches: list[str],
                                       expected: dict[str, tuple[float, float]]) -> None:
    with journeys_for(tmp_path, {"A": {"created": "2026-01-01", "touches": touches,
                                       **won("2026-02-01", 10)}}, backend=backend) as ws:
        assert credits(attribute(ws, "position_based")) == expected


W_CASES = {
    # No opportunity (conversion sql): its 0.3 is spread over first (ads) and lead (email):
    # 0.45 each; social and webinar share 0.1.
    "missing opportunity": (
        {"created": "2026-01-05T12:00", "stages": {"sql": "2026-01-10"}, "touches": [
            "2026-01-01 ads", "2026-01-05 email", "2026-01-08 social", "2026-01-09 webinar"]},
        "sql", {"ads": 0.45, "email": 0.45, "social": 0.05, "webinar": 0.05}),
    # Every touch after the lead's creation: no lead touch; first (ads) and opportunity touch
    # (social, the last before the Jan 7 opportunity) 0.45 each; email, webinar 0.05 each.
    "missing lead touch": (
        {"created": "2026-01-01", "stages": {"won": "2026-01-10"},
         "deals": [("2026-01-07", "won", 1.0, "2026-01-10")], "touches": [
            "2026-01-02 ads", "2026-01-03 email", "2026-01-06 social", "2026-01-08 webinar"]},
        "won", {"ads": 0.45, "email": 0.05, "social": 0.45, "webinar": 0.05}),
    # First touch is also the lead touch: 0.3 + 0.3 on ads; email opportunity 0.3; social 0.1.
    "first is lead touch": (
        {"created": "2026-01-02", "stages": {"won": "2026-01-10"},
         "deals": [("2026-01-04", "won", 1.0, "2026-01-10")],
         "touches": ["2026-01-01 ads", "2026-01-03 email", "2026-01-05 social"]},
        "won", {"ads": 0.6, "email": 0.3, "social": 0.1}),
    # Nothing but anchors: the rest's 0.1 goes to the anchors too → 1/3 per anchor:
    # ads (first and lead) 2/3, email (opportunity) 1/3.
    "no rest": (
        {"created": "2026-01-02", "stages": {"won": "2026-01-10"},
         "deals": [("2026-01-04", "won", 1.0, "2026-01-10")],
         "touches": ["2026-01-01 ads", "2026-01-03 email"]},
        "won", {"ads": 0.666666667, "email": 0.333333333}),
    # One touch holds all three anchors.
    "one touch": (
        {"created": "2026-01-02", "stages": {"won": "2026-01-10"},
         "deals": [("2026-01-04", "won", 1.0, "2026-01-10")], "touches": ["2026-01-01 ads"]},
        "won", {"ads": 1.0}),
    # The opportunity comes after the sql conversion: not part of this journey (missing).
    "opportunity after conversion": (
        {"created": "2026-01-02", "stages": {"sql": "2026-01-06"},
         "deals": [("2026-01-08", "open", 1.0)],
         "touches": ["2026-01-01 ads", "2026-01-03 email", "2026-01-05 social"]},
        "sql", {"ads": 0.9, "email": 0.05, "social": 0.05}),
}


@pytest.mark.parametrize("case", list(W_CASES))
def test_w_shaped_fallbacks(backend: str, tmp_path: Path, case: str) -> None:
    lead, conversion, shares = W_CASES[case]
    with journeys_for(tmp_path, {"A": lead}, backend=backend) as ws:
        got = credits(attribute(ws, "w_shaped", conversion=conversion))
        assert {k: v[0] for k, v in got.items()} == shares


def test_w_shaped_rest_share(backend: str, tmp_path: Path) -> None:
    """rest_share 0.25: anchors 0.25 each; on LEAD_A ads = 0.5, email 0.25, social/webinar
    0.125."""
    with journeys_for(tmp_path, LEAD_A, backend=backend) as ws:
        got = credits(attribute(ws, WShaped(rest_share=0.25)))
        assert {k: v[0] for k, v in got.items()} == {
            "ads": 0.5, "email": 0.25, "social": 0.125, "webinar": 0.125}


def test_several_journeys_add_up(backend: str, tmp_path: Path) -> None:
    """Two journeys: A (LEAD_A, linear as above) + B (one ads touch, won 10) → ads 1.4, 410."""
    leads = {**LEAD_A, "B": {"created": "2026-01-01", "touches": ["2026-01-02 ads"],
                             **won("2026-01-20", 10)}}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        assert credits(attribute(ws, "linear"))["ads"] == (1.4, 410.0)


def test_rule_credit_compiles_to_sql_window_functions(tmp_path: Path) -> None:
    """Rule models run in the database: their credit is one SQL statement with windows."""
    import ibis

    from funnelmetrics.attribution import Linear

    with journeys_for(tmp_path, LEAD_A) as ws:
        sql = ibis.to_sql(Linear().credit_expr(build_journeys(ws)), dialect="duckdb")
        assert "ROW_NUMBER() OVER" in sql and "PARTITION BY" in sql


def test_bad_parameters() -> None:
    with pytest.raises(QueryError):
        TimeDecay(half_life_days=0)
    with pytest.raises(QueryError):
        WShaped(rest_share=1.0)
    with pytest.raises(TypeError):
        TimeDecay(7)  # type: ignore[misc]  # configuration is keyword-only
