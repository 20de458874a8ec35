"""Insights' statistics, worked by hand (or from a documented published case)."""

from __future__ import annotations

import math

import pytest

from funnelmetrics.insights.stats import holm, shift_share, two_proportion_ztest


def test_pooled_ztest_matches_statsmodels_documented_case() -> None:
    # statsmodels' proportions_ztest docs: 5 of 83 vs 12 of 99, pooled → z = -1.4078, p = 0.15918
    res = two_proportion_ztest(5, 83, 12, 99)
    assert res.z == pytest.approx(-1.4078, abs=5e-5)
    assert res.p_value == pytest.approx(0.15918, abs=5e-6)


def test_pooled_ztest_by_hand() -> None:
    # 30/100 vs 50/100: pooled 0.4, se = sqrt(0.4 * 0.6 * 0.02) = sqrt(0.0048)
    res = two_proportion_ztest(30, 100, 50, 100)
    assert res.z == pytest.approx(-0.2 / math.sqrt(0.0048))
    assert res.p_value == pytest.approx(math.erfc(0.2 / math.sqrt(0.0048) / math.sqrt(2)))
    assert two_proportion_ztest(50, 100, 30, 100).z == pytest.approx(-res.z)  # symmetric


@pytest.mark.parametrize("args", [(0, 0, 3, 10), (3, 10, 0, 0), (0, 10, 0, 20), (10, 10, 5, 5)])
def test_ztest_without_variance_or_group_is_not_tested(args: tuple[int, ...]) -> None:
    res = two_proportion_ztest(*args)
    assert res.z is None and res.p_value is None


def test_holm_by_hand() -> None:
    # sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → max(0.06, 0.04) = 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_skips_untested() -> None:
    # m = 2 tested: 0.02×2 = 0.04, then 0.6×1 = 0.6
    assert holm([0.6, None, 0.02]) == [pytest.approx(0.6), None, pytest.approx(0.04)]
    # 0.6×2 = 1.2 → capped at 1; 0.7×1 = 0.7, raised to 1 (never below an earlier step)
    assert holm([0.7, 0.6, None]) == [1.0, 1.0, None]
    assert holm([]) == []


def test_shift_share_by_hand_and_sums_exactly() -> None:
    # A: 100 leads, 10 won → 200 leads, 30 won; B: 100 leads, 20 won → 100 leads, 20 won.
    # V 200 → 300; mixes A 0.5 → 2/3, B 0.5 → 1/3; rates A 0.1 → 0.15, B 0.2 → 0.2.
    parts = {p.segment: p for p in shift_share({"A": (10, 100), "B": (20, 100)},
                                               {"A": (30, 200), "B": (20, 100)})}
    a, b = parts["A"], parts["B"]
    # A volume: ΔV=100 × [(0.5·0.1 + 2/3·0.15)/3 + (0.5·0.15 + 2/3·0.1)/6]
    vol_a = 100 * ((0.05 + 0.1) / 3 + (0.075 + 0.2 / 3) / 6)
    assert a.volume == pytest.approx(vol_a)
    # A mix: Δm=1/6 × [(200·0.1 + 300·0.15)/3 + (200·0.15 + 300·0.1)/6] = 1/6 × (65/3 + 10)
    assert a.mix == pytest.approx((65 / 3 + 10) / 6)
    # B's rate did not change: no rate effect; its volume and mix effects cancel (20 → 20)
    assert b.rate == pytest.approx(0.0, abs=1e-12)
    assert b.volume + b.mix == pytest.approx(0.0, abs=1e-12)
    for p in parts.values():
        assert round(p.volume + p.mix + p.rate, 2) == round(p.change, 2)
    assert round(sum(p.volume + p.mix + p.rate for p in parts.values()), 2) == 20.0


def test_shift_share_new_and_gone_segments_sum_exactly() -> None:
    before = {"web": (1234.56, 10), "events": (999.99, 3)}
    after = {"web": (4321.01, 12), "partner": (777.77, 4)}
    parts = shift_share(before, after)
    assert {p.segment for p in parts} == {"web", "events", "partner"}
    total = sum(p.volume + p.mix + p.rate for p in parts)
    assert round(total, 2) == round((4321.01 + 777.77) - (1234.56 + 999.99), 2)
    gone = next(p for p in parts if p.segment == "events")
    assert gone.change == pytest.approx(-999.99)
    assert gone.rate == pytest.approx(0.0, abs=1e-9)  # it had one rate only: no rate effect
