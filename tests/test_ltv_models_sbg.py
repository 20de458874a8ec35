"""sBG against Fader & Hardie (2007) and DERL/DEL against hand-worked closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funnelmetrics.forecast.sbg import (
    ShiftedBetaGeometric,
    churn_probabilities,
    derl,
    discounted_lifetime,
    log_likelihood,
    survival,
)

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]  # Fader & Hardie (2007), Table 1


def test_high_end_segment_reproduces_the_paper() -> None:
    m = ShiftedBetaGeometric().fit(HIGH_END)
    assert m.alpha_ == pytest.approx(0.668, abs=5e-4)
    assert m.beta_ == pytest.approx(3.806, abs=5e-4)
    assert m.log_likelihood_ == pytest.approx(-1611.2, abs=0.05)
    # projected survival, years 8-12 (the paper's Figure 3 / text)
    assert m.survival(12)[8:] == pytest.approx([0.460, 0.436, 0.414, 0.395, 0.378], abs=5e-4)


def test_recursion_by_hand() -> None:
    # α = 1, β = 2: P(1) = 1/3, P(2) = 1/3 · 2/4 = 1/6, P(3) = 1/6 · 3/5 = 1/10
    assert churn_probabilities(1, 2, 3) == pytest.approx([1 / 3, 1 / 6, 1 / 10])
    assert survival(1, 2, 3) == pytest.approx([1, 2 / 3, 1 / 2, 2 / 5])
    # 10 customers, 3 lost in period 1, 7 censored: 3 ln(1/3) + 7 ln(2/3)
    assert log_likelihood(1, 2, [10, 7]) == pytest.approx(3 * math.log(1 / 3) + 7 * math.log(2 / 3))


def test_retention_rates_rise_with_tenure() -> None:
    m = ShiftedBetaGeometric().fit(HIGH_END)
    r = m.retention_rates(3)
    s = m.survival(3)
    assert r == pytest.approx(s[1:] / s[:-1])
    assert list(r) == sorted(r)


def test_del_and_derl_closed_forms_by_hand() -> None:
    # α = β = 1: S(t) = 1/(1+t); with x = 1/(1+d): DEL = Σ x^t/(1+t) = -ln(1-x)/x
    x = 1 / 1.1
    assert discounted_lifetime(1, 1, 0.1) == pytest.approx(-math.log(1 - x) / x)
    # DERL before the first renewal: Σ_{t>=1} S(t) x^(t-1) = (DEL - 1)(1+d)
    assert derl(1, 1, 1, 0.1) == pytest.approx((-math.log(1 - x) / x - 1) * 1.1)
    # the hypergeometric form equals the series on the paper's parameters
    s = survival(0.668, 3.806, 4000)
    n = 5
    series = sum(s[t] / s[n - 1] * x ** (t - n) for t in range(n, 4001))
    assert derl(0.668, 3.806, n, 0.1) == pytest.approx(series, rel=1e-3)
    # undiscounted residual lifetime (β + n - 1)/(α - 1) when α > 1: α = 2, β = 3, n = 1 → 3
    assert derl(2, 3, 1, 0) == 3.0


def test_parameter_draws_centre_on_the_fit() -> None:
    m = ShiftedBetaGeometric().fit(HIGH_END)
    draws = m.parameter_draws(2000, seed=1)
    assert np.median(draws[:, 0]) == pytest.approx(m.alpha_, rel=0.05)
    assert np.median(draws[:, 1]) == pytest.approx(m.beta_, rel=0.05)
    assert draws[:, 0].std() > 0


@pytest.mark.parametrize("bad", [[0, 0], [10], [10, 11]])
def test_unusable_survivors_are_refused(bad: list[int]) -> None:
    with pytest.raises(ValueError, match="non-increasing"):
        ShiftedBetaGeometric().fit(bad)
