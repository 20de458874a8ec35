"""Shapley-value attribution against values worked out by hand (issue #4 §1)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_attribution_journeys import journeys_for, won

from funnelmetrics.attribution import Shapley, build_journeys
from funnelmetrics.attribution.shapley import exact_shapley, sampled_shapley


def lead(touches: list[str], amount: float | None = None) -> dict:
    spec = {"created": "2026-01-01",
            "touches": [f"2026-01-{2 + i:02d} {ch}" for i, ch in enumerate(touches)]}
    return {**spec, **won("2026-02-01", amount)} if amount is not None else spec


def test_three_channels_by_hand(backend: str, tmp_path: Path) -> None:
    """Converted journeys A (worth 10), A → B (worth 20), B → C → B (worth 30); D never converts.
    Channel sets {A}, {A,B}, {B,C}; v(S) = conversions of the sets ⊆ S:
    v(∅)=0, v(A)=1, v(B)=0, v(C)=0, v(AB)=2, v(AC)=1, v(BC)=1, v(ABC)=3.
    φ_A = 1/3·(v(A)−v(∅)) + 1/6·(v(AB)−v(B)) + 1/6·(v(AC)−v(C)) + 1/3·(v(ABC)−v(BC))
        = 1/3 + 2/6 + 1/6 + 2/3 = 3/2
    φ_B = 1/3·0 + 1/6·(v(AB)−v(A)) + 1/6·(v(BC)−v(C)) + 1/3·(v(ABC)−v(AC)) = 1/6 + 1/6 + 2/3 = 1
    φ_C = 1/3·0 + 1/6·(v(AC)−v(A)) + 1/6·(v(BC)−v(B)) + 1/3·(v(ABC)−v(AB)) = 0 + 1/6 + 1/3 = 1/2
    Value game, same way: v(A)=10, v(AB)=30, v(AC)=10, v(BC)=30, v(ABC)=60:
    φ_A = 10/3 + 30/6 + 10/6 + 30/3 = 20, φ_B = 0 + 20/6 + 30/6 + 50/3 = 25, φ_C = 0 + 0 + 30/6
    + 30/3 = 15.
    """
    leads = {"J1": lead(["A"], 10.0), "J2": lead(["A", "B"], 20.0),
             "J3": lead(["B", "C", "B"], 30.0), "J4": lead(["D", "A"])}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        m = Shapley().fit(build_journeys(ws))
        assert m.exact_
        got = m.credits_.set_index("key")
        assert got["credited_conversions"].to_dict() == pytest.approx(
            {"A": 1.5, "B": 1.0, "C": 0.5})
        assert got["credited_revenue"].to_dict() == pytest.approx({"A": 20, "B": 25, "C": 15})


def test_two_channels_by_hand(backend: str, tmp_path: Path) -> None:
    """{A} ×2 and {A,B} ×1: v(A)=2, v(B)=0, v(AB)=3. φ_A = 1/2·2 + 1/2·(3−0) = 2.5,
    φ_B = 1/2·0 + 1/2·(3−2) = 0.5."""
    leads = {"J1": lead(["A"], 1.0), "J2": lead(["A"], 1.0), "J3": lead(["B", "A"], 1.0)}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        got = Shapley().fit(build_journeys(ws)).credits_.set_index("key")
        assert got["credited_conversions"].to_dict() == pytest.approx({"A": 2.5, "B": 0.5})


def brute_force(sets: list[tuple[int, ...]], w: list[float], n: int) -> list[float]:
    """Shapley by definition: average marginal contribution over all n! orders."""
    def v(coalition: set[int]) -> float:
        return sum(wj for s, wj in zip(sets, w, strict=True) if set(s) <= coalition)
    phi = [0.0] * n
    for order in itertools.permutations(range(n)):
        seen: set[int] = set()
        for p in order:
            phi[p] += v(seen | {p}) - v(seen)
            seen.add(p)
    return [x / math.factorial(n) for x in phi]


def closed_form(sets: list[tuple[int, ...]], w: list[float], n: int) -> np.ndarray:
    """v is a sum of unanimity games: each set's weight split equally among its members."""
    phi = np.zeros(n)
    for s, wj in zip(sets, w, strict=True):
        for p in s:
            phi[p] += wj / len(s)
    return phi


game = st.integers(2, 5).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.frozensets(st.integers(0, n - 1), min_size=1),
                       st.floats(0.0, 100.0)), min_size=1, max_size=8)))


@given(game)
@settings(max_examples=60, deadline=None)
def test_enumeration_matches_definition(g: tuple) -> None:
    n, items = g
    sets = [tuple(sorted(s)) for s, _ in items]
    w = [x for _, x in items]
    phi = exact_shapley([list(s) for s in sets], np.array(w)[:, None], n)[:, 0]
    np.testing.assert_allclose(phi, brute_force(sets, w, n), atol=1e-9)
    np.testing.assert_allclose(phi, closed_form(sets, w, n), atol=1e-9)


def test_sampling_beyond_max_exact_is_seeded_and_efficient(backend: str, tmp_path: Path) -> None:
    """With max_exact_channels=2 the 4 channels are sampled: same seed → same values; the values
    still add up to the conversions exactly (every order gives each set to one member) and come
    close to the exact ones."""
    leads = {"J1": lead(["A", "B"], 10.0), "J2": lead(["B", "C", "D"], 20.0),
             "J3": lead(["A", "C"], 30.0), "J4": lead(["D"], 40.0)}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        j = build_journeys(ws)
        exact = Shapley().fit(j).credits_.set_index("key")
        a = Shapley(max_exact_channels=2, n_samples=4000, seed=7).fit(j)
        b = Shapley(max_exact_channels=2, n_samples=4000, seed=7).fit(j)
        assert not a.exact_
        assert a.credits_.equals(b.credits_)
        got = a.credits_.set_index("key")
        assert got["credited_conversions"].sum() == pytest.approx(4.0)
        assert got["credited_revenue"].sum() == pytest.approx(100.0)
        np.testing.assert_allclose(got["credited_conversions"], exact["credited_conversions"],
                                   atol=0.05)


def test_sampled_matches_closed_form_for_many_players() -> None:
    """20 players (beyond exact enumeration): the estimate is unbiased around the closed form."""
    rng = np.random.default_rng(0)
    sets = [tuple(sorted(set(rng.integers(0, 20, size=rng.integers(1, 5))))) for _ in range(50)]
    w = rng.uniform(0, 10, size=50)
    phi = sampled_shapley([list(s) for s in sets], w[:, None], 20, n_samples=6000, seed=1)[:, 0]
    assert phi.sum() == pytest.approx(w.sum())
    np.testing.assert_allclose(phi, closed_form(sets, list(w), 20), atol=0.35)


def test_string_sets_beyond_bitmask_width(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 62 channels a set is the sorted names, not a bitmask: the same values."""
    from funnelmetrics.attribution import shapley

    leads = {"J1": lead(["A"], 10.0), "J2": lead(["A", "B"], 20.0),
             "J3": lead(["B", "C", "B"], 30.0)}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        j = build_journeys(ws)
        by_mask = Shapley().fit(j).credits_
        monkeypatch.setattr(shapley, "MAX_BITS", 0)
        by_name = Shapley().fit(j).credits_
    pd.testing.assert_frame_equal(by_mask, by_name)
    assert by_name.set_index("key")["credited_revenue"].to_dict() == pytest.approx(
        {"A": 20, "B": 25, "C": 15})
