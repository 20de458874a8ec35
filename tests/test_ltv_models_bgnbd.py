"""BG/NBD and Gamma-Gamma against the published CDNOW figures (Fader, Hardie & Lee 2005;
Fader & Hardie 2013) and against hand-worked values on tiny data."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from funnelmetrics.forecast.bgnbd import BetaGeoNBD, _log_likelihoods
from funnelmetrics.forecast.gamma_gamma import GammaGamma

CDNOW = Path(__file__).parent / "fixtures" / "ltv" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    with CDNOW.open() as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar")}


@pytest.fixture(scope="module")
def bgnbd(cdnow: dict[str, np.ndarray]) -> BetaGeoNBD:
    return BetaGeoNBD().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])


def test_cdnow_sample_is_the_papers(cdnow: dict[str, np.ndarray]) -> None:
    assert len(cdnow["x"]) == 2357
    assert int((cdnow["x"] > 0).sum()) == 946  # repeat buyers (Fader & Hardie 2013)


def test_bgnbd_reproduces_the_published_parameters(bgnbd: BetaGeoNBD) -> None:
    assert bgnbd.r_ == pytest.approx(0.243, abs=5e-4)
    assert bgnbd.alpha_ == pytest.approx(4.414, abs=5e-3)
    assert bgnbd.a_ == pytest.approx(0.793, abs=5e-4)
    assert bgnbd.b_ == pytest.approx(2.426, abs=5e-3)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_conditional_expectation_of_the_papers_customer(bgnbd: BetaGeoNBD) -> None:
    # Fader, Hardie & Lee (2005), section 5: x = 2, t_x = 30.43, T = 38.86 → 1.226 in 39 weeks
    assert float(bgnbd.expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=5e-4)
    # no repeat purchase: alive for sure under the BG/NBD
    assert float(bgnbd.probability_alive(0, 0, 38.86)) == 1.0
    # more recent activity, higher P(alive)
    assert bgnbd.probability_alive(2, 38, 38.86) > bgnbd.probability_alive(2, 10, 38.86)


def test_bgnbd_log_likelihood_by_hand() -> None:
    # r = α = a = b = 1. x = 0, T = 1: A1 = 0, A2 = 0, A3 = -ln 2 → ln(1/2)
    # x = 1, t_x = 1, T = 2: A1 = ln Γ(2) - ln Γ(1) + 0 = 0; A2 = ln Γ(2) + ln Γ(2) - ln Γ(1)
    # - ln Γ(3) = -ln 2; A3 = -2 ln 3; A4 = ln 1 - ln 1 - 2 ln 2 → -ln 2 + ln(1/9 + 1/4)
    ll = _log_likelihoods((1, 1, 1, 1), np.array([0.0, 1.0]), np.array([0.0, 1.0]),
                          np.array([1.0, 2.0]))
    assert ll == pytest.approx([math.log(0.5), -math.log(2) + math.log(1 / 9 + 1 / 4)])


def test_bgnbd_log_likelihood_of_a_tiny_b() -> None:
    # r = α = a = 1, b = 1e-17; x = 1, t_x = 1, T = 2. Γ(b) ≈ 1/b, so A2 ≈ -ln Γ(b) = ln b and
    # A4 = ln 1 - ln b - 2 ln 2: A2 + A4 = -2 ln 2, and A3 - A4 ≈ ln b → e^(A3-A4) ≈ 0:
    # LL = -ln 4. (b + x - 1 rounds to 0 there: LL was +inf, with a warning.)
    ll = _log_likelihoods((1, 1, 1, 1e-17), np.array([1.0]), np.array([1.0]), np.array([2.0]))
    assert ll == pytest.approx([-math.log(4)], rel=1e-9)
    # b = 0 (underflowed): not a likelihood, quietly (the fit steps away from it)
    assert not np.isfinite(_log_likelihoods((1, 1, 1, 0.0), np.array([1.0]), np.array([1.0]),
                                            np.array([2.0]))).any()


def test_a_fit_on_one_repeat_buyer_ends_without_warnings() -> None:
    # the shape of a small demo: 23 accounts, one of them with a repeat purchase
    x = np.array([1.0] + [0.0] * 22)
    t_x = np.array([30.0] + [0.0] * 22)
    big_t = np.linspace(70.0, 5.0, 23)
    model = BetaGeoNBD().fit(x, t_x, big_t)
    assert np.isfinite(model.log_likelihood_)
    assert all(np.isfinite(model.params_))
    # unidentified, so bounded: within e^±25, where ln Γ keeps the likelihood's digits
    assert all(math.exp(-25.5) < v < math.exp(25.5) for v in model.params_)


def test_bgnbd_unconditional_expectation_grows(bgnbd: BetaGeoNBD) -> None:
    e39, e78 = bgnbd.expected_purchases_new(39), bgnbd.expected_purchases_new(78)
    assert 0 < e39 < e78 < 2 * e39


def test_gamma_gamma_reproduces_the_published_parameters(cdnow: dict[str, np.ndarray]) -> None:
    g = GammaGamma().fit(cdnow["x"], cdnow["zbar"])
    assert g.customers_ == 946
    assert g.p_ == pytest.approx(6.25, abs=5e-3)
    assert g.q_ == pytest.approx(3.74, abs=5e-3)
    assert g.v_ == pytest.approx(15.44, abs=1e-2)
    # E(Z | z̄, x) by the formula: p(γ + x z̄)/(px + q - 1), and the mean without repeats
    want = g.p_ * (g.v_ + 2 * 30.0) / (g.p_ * 2 + g.q_ - 1)
    assert float(g.expected_spend(2, 30.0)) == pytest.approx(want)
    assert float(g.expected_spend(0, 0.0)) == pytest.approx(g.mean_spend_)
    assert g.mean_spend_ == pytest.approx(6.25 * 15.44 / 2.74, rel=3e-3)


def test_intervals_from_the_curvature(bgnbd: BetaGeoNBD) -> None:
    draws = bgnbd.parameter_draws(500, seed=3)
    assert draws.shape == (500, 4)
    assert np.median(draws[:, 0]) == pytest.approx(bgnbd.r_, rel=0.05)
    assert draws[:, 0].std() > 0


def test_bad_summaries_are_refused() -> None:
    with pytest.raises(ValueError, match="t_x <= T"):
        BetaGeoNBD().fit([1], [5], [2])
    with pytest.raises(ValueError, match="at least one customer"):
        BetaGeoNBD().fit([], [], [])
    with pytest.raises(ValueError, match="two customers"):
        GammaGamma().fit([0, 1], [0, 5])
