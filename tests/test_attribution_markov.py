"""Markov removal-effect attribution, against removal effects worked out by hand (issue #4 §1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_attribution_journeys import credits, journeys_for, won

from funnelmetrics.attribution import Markov, build_journeys
from funnelmetrics.attribution.markov import removal_effects
from funnelmetrics.errors import QueryError


def lead(touches: list[str], amount: float | None = None) -> dict:
    """A lead whose touches are on consecutive days from Jan 2; won on Feb 1 when `amount`."""
    spec = {"created": "2026-01-01",
            "touches": [f"2026-01-{2 + i:02d} {ch}" for i, ch in enumerate(touches)]}
    return {**spec, **won("2026-02-01", amount)} if amount is not None else spec


def test_textbook_example(backend: str, tmp_path: Path) -> None:
    """The three-journey example of Anderl et al. (2016) / S. Bryl, "Marketing multi-channel
    attribution model with R" (analyzecore.com, 2016):

        C1 → C2 → C3 → (conversion)     C1 → (null)     C2 → C3 → (null)

    Transitions: start→C1 2/3, start→C2 1/3; C1→C2 1/2, C1→null 1/2; C2→C3 1; C3→conv 1/2,
    C3→null 1/2. P(conv) = 2/3·1/2·1·1/2 + 1/3·1·1/2 = 1/6 + 1/6 = 1/3.
    Without C1 (start→C1 now goes to null): P = 1/3·1·1/2 = 1/6 → RE(C1) = 1 − (1/6)/(1/3) = 1/2.
    Without C2 or without C3 no path converts: RE = 1 each.
    Normalised: C1 0.5/2.5 = 0.2, C2 0.4, C3 0.4 → of the one conversion worth 1000:
    C1 0.2 / 200, C2 0.4 / 400, C3 0.4 / 400.
    """
    leads = {"J1": lead(["C1", "C2", "C3"], 1000.0), "J2": lead(["C1"]), "J3": lead(["C2", "C3"])}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        m = Markov().fit(build_journeys(ws))
        assert m.conversion_probability_ == pytest.approx(1 / 3, abs=1e-12)
        assert m.removal_effects_.to_dict() == pytest.approx({"C1": 0.5, "C2": 1.0, "C3": 1.0})
        assert credits(m.credits_.rename(columns={"key": "channel"})) == {
            "C1": (0.2, 200.0), "C2": (0.4, 400.0), "C3": (0.4, 400.0)}
        t = m.transitions_.set_index(["from", "to"])["probability"]
        assert t[("(start)", "C1")] == pytest.approx(2 / 3)
        assert t[("C3", "(conversion)")] == pytest.approx(1 / 2)


def test_cycle_needs_the_linear_solve(backend: str, tmp_path: Path) -> None:
    """A → B → A → (conversion) and B → (null): a loop, so the chain is solved, not walked.

    Transitions: start→A 1/2, start→B 1/2; A→B 1/2, A→conv 1/2; B→A 1/2, B→null 1/2.
    x_A = 1/2·x_B + 1/2, x_B = 1/2·x_A → x_A = 2/3, x_B = 1/3, P = 1/2·(2/3 + 1/3) = 1/2.
    Without A: x_B = 0 → P = 0 → RE(A) = 1. Without B: x_A = 1/2 → P = 1/4 → RE(B) = 1/2.
    Normalised A 2/3, B 1/3 of the one conversion (worth 90 → 60 and 30).
    """
    leads = {"J1": lead(["A", "B", "A"], 90.0), "J2": lead(["B"])}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        m = Markov().fit(build_journeys(ws))
        assert m.conversion_probability_ == pytest.approx(1 / 2, abs=1e-12)
        assert m.removal_effects_.to_dict() == pytest.approx({"A": 1.0, "B": 0.5})
        assert credits(m.credits_.rename(columns={"key": "channel"})) == {
            "A": (0.666666667, 60.0), "B": (0.333333333, 30.0)}


ORDER_LEADS = {"J1": lead(["A", "B"], 3.0), "J2": lead(["B", "A"]), "J3": lead(["A"], 3.0)}


def test_first_order_on_order_example(backend: str, tmp_path: Path) -> None:
    """J1: A → B → conv; J2: B → A → null; J3: A → conv. First order:
    start→A 2/3, start→B 1/3; A→B, A→conv, A→null 1/3 each; B→conv, B→A 1/2 each.
    x_A = 1/3·x_B + 1/3, x_B = 1/2 + 1/2·x_A → x_A = 3/5, x_B = 4/5; P = 2/5 + 4/15 = 2/3.
    Without A: P = 1/3·1/2 = 1/6 → RE(A) = 3/4. Without B: P = 2/3·1/3 = 2/9 → RE(B) = 2/3.
    Shares 9/17 and 8/17 of 2 conversions (worth 6).
    """
    with journeys_for(tmp_path, ORDER_LEADS, backend=backend) as ws:
        m = Markov().fit(build_journeys(ws))
        assert m.conversion_probability_ == pytest.approx(2 / 3)
        assert m.removal_effects_.to_dict() == pytest.approx({"A": 3 / 4, "B": 2 / 3})
        got = m.credits_.set_index("key")
        assert got.loc["A", "credited_conversions"] == pytest.approx(2 * 9 / 17)
        assert got.loc["B", "credited_revenue"] == pytest.approx(6 * 8 / 17)


def test_second_order(backend: str, tmp_path: Path) -> None:
    """The same journeys with order 2: states are the last two channels (one at the start).
    J1: (A) → (A,B) → conv; J2: (B) → (B,A) → null; J3: (A) → conv.
    start→(A) 2/3, start→(B) 1/3; (A)→(A,B) 1/2, (A)→conv 1/2; (A,B)→conv; (B)→(B,A)→null.
    P = 2/3·(1/2 + 1/2) = 2/3. Removing A removes (A), (A,B), (B,A): P = 0 → RE(A) = 1.
    Removing B removes (B), (A,B), (B,A): P = 2/3·1/2 = 1/3 → RE(B) = 1/2.
    Shares 2/3, 1/3 of 2 conversions.
    """
    with journeys_for(tmp_path, ORDER_LEADS, backend=backend) as ws:
        m = Markov(order=2).fit(build_journeys(ws))
        assert m.conversion_probability_ == pytest.approx(2 / 3)
        assert m.removal_effects_.to_dict() == pytest.approx({"A": 1.0, "B": 0.5})
        got = m.credits_.set_index("key")["credited_conversions"].to_dict()
        assert got == pytest.approx({"A": 4 / 3, "B": 2 / 3})


def test_value_is_credited_by_the_same_shares(backend: str, tmp_path: Path) -> None:
    """SPEC §4: value follows the normalised removal effects, not the paths' own values.
    Textbook example, plus J4: C3 alone, converting for 9000. Every channel's revenue share
    equals its conversion share."""
    leads = {"J1": lead(["C1", "C2", "C3"], 1000.0), "J2": lead(["C1"]),
             "J3": lead(["C2", "C3"]), "J4": lead(["C3"], 9000.0)}
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        c = Markov().fit(build_journeys(ws)).credits_.set_index("key")
        assert c["credited_conversions"].sum() == pytest.approx(2.0)
        assert c["credited_revenue"].sum() == pytest.approx(10_000.0)
        np.testing.assert_allclose(c["credited_revenue"] / 10_000, c["credited_conversions"] / 2)


def test_removal_effects_agree_with_hitting_probabilities() -> None:
    """Order 1 cross-check by a second exact route: P₋c = P − h_c·x_c (first-passage
    decomposition), h from the fundamental matrix N = (I − Q)⁻¹ (Kemeny & Snell, thm 3.3.7)."""
    rng = np.random.default_rng(3)
    channels = ["a", "b", "c", "d", "e"]
    rows = []
    for s in ["(start)", *channels]:
        targets = [*channels, "(conversion)", "(null)"]
        p = rng.dirichlet(np.ones(len(targets)))
        rows += [(s, t, 1.0, q) for t, q in zip(targets, p, strict=True)]
    tr = pd.DataFrame(rows, columns=["from", "to", "count", "probability"])
    base, effects = removal_effects(tr)
    names = ["(start)", *channels]
    q = np.zeros((6, 6))
    r = np.zeros(6)
    for a, b, _, p in rows:
        if b == "(conversion)":
            r[names.index(a)] = p
        elif b != "(null)":
            q[names.index(a), names.index(b)] = p
    n = np.linalg.inv(np.eye(6) - q)
    x = n @ r
    assert base == pytest.approx(x[0])
    for i, c in enumerate(channels, start=1):
        hit = n[0, i] / n[i, i]
        assert effects[c] == pytest.approx(hit * x[i] / x[0])


def test_non_converters_only(backend: str, tmp_path: Path) -> None:
    """Nothing converts: P(conversion) is 0, every removal effect 0, nothing credited."""
    with journeys_for(tmp_path, {"J1": lead(["A", "B"])}, backend=backend) as ws:
        m = Markov().fit(build_journeys(ws))
        assert m.conversion_probability_ == 0.0
        assert m.removal_effects_.to_dict() == {"A": 0.0, "B": 0.0}
        assert m.credits_["credited_conversions"].sum() == 0.0


def test_order_must_be_positive() -> None:
    with pytest.raises(QueryError):
        Markov(order=0)


def test_lookback_and_range_cut_the_chain(backend: str, tmp_path: Path) -> None:
    """J1: A (Jan 2), B (Jan 25), won Feb 1. J2: A (Jan 2) → B (Jan 3), no conversion.
    J3: C on Mar 5, no conversion.

    All time: start→A 2/3, start→C 1/3; A→B 1; B→conv 1/2, B→null 1/2; C→null.
    P = 2/3·1/2 = 1/3; removing A or B leaves nothing → RE 1 each, C 0 → shares 1/2, 1/2.

    Look-back 10 days, range Jan 1 – Feb 28: J1 is B alone (A is 30 days before: its journey
    starts at B), J2 keeps both touches (10 days before its own last touch), J3 ends in March:
    out of range. start→B 1/2, start→A 1/2; A→B 1; B→conv 1/2, B→null 1/2.
    P = 1/2·1/2 + 1/2·1/2 = 1/2. Without A: P = 1/4 → RE(A) = 1/2; without B: RE(B) = 1.
    Shares A 1/3, B 2/3.
    """
    leads = {
        "J1": {"created": "2026-01-01", "touches": ["2026-01-02 A", "2026-01-25 B"],
               **won("2026-02-01", 30.0)},
        "J2": {"created": "2026-01-01", "touches": ["2026-01-02 A", "2026-01-03 B"]},
        "J3": {"created": "2026-01-01", "touches": ["2026-03-05 C"]},
    }
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        m = Markov().fit(build_journeys(ws))
        assert m.removal_effects_.to_dict() == pytest.approx({"A": 1.0, "B": 1.0, "C": 0.0})
        m = Markov().fit(build_journeys(ws, lookback_days=10, start="2026-01-01",
                                        end="2026-02-28"))
        assert m.conversion_probability_ == pytest.approx(1 / 2)
        assert m.removal_effects_.to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
        got = m.credits_.set_index("key")["credited_revenue"].to_dict()
        assert got == pytest.approx({"A": 10.0, "B": 20.0})
