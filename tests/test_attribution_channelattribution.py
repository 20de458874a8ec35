"""Our exact Markov model against ChannelAttribution's simulated `markov_model` (issue #4 §4).

ChannelAttribution (Altomare & Loris, GPL-3, an optional dev dependency) estimates removal effects
by simulating walks on the same first-order chain. Differences to expect, and why:
- theirs is a simulation (nsim walks): results move with the seed and `nsim_start`; ours is the
  exact absorption probability of the chain, one linear solve per channel;
- by default their walks stop after `max_step` = the longest observed path, which cuts off the
  chain's longer (looping) walks and lowers every removal effect; with `max_step` large they
  converge to ours;
- value: theirs credits each path's own value through value-weighted removal effects
  (`removal_effects_conversion_value`); ours (SPEC §4) credits the total value by the same
  normalised removal effects as the conversions — the value columns differ by design and are
  not compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_attribution_journeys import journeys_for, won

from funnelmetrics.attribution import Markov, build_journeys

ca = pytest.importorskip("ChannelAttribution")


def _theirs(paths: pd.DataFrame, **options: object) -> pd.Series:
    out = ca.markov_model(paths, "path", "conv", var_null="null", out_more=True,
                          verbose=False, flg_pro=False, **options)
    return out["removal_effects"].set_index("channel_name")["removal_effect"]


def _journeys(rng: np.random.Generator, n: int) -> dict:
    """Random journeys over 4 channels; channel d converts more often."""
    leads = {}
    for i in range(n):
        touches = list(rng.choice(list("abcd"), size=rng.integers(1, 5)))
        p = 0.1 + 0.3 * ("d" in touches)
        spec = {"created": "2026-01-01",
                "touches": [f"2026-01-{2 + k:02d} {ch}" for k, ch in enumerate(touches)]}
        if rng.random() < p:
            spec.update(won("2026-02-01", 100.0))
        leads[f"L{i}"] = spec
    return leads


def _paths(leads: dict) -> pd.DataFrame:
    rows: dict[str, list[int]] = {}
    for spec in leads.values():
        path = " > ".join(t.split()[1] for t in spec["touches"])
        conv, null = rows.setdefault(path, [0, 0])
        rows[path] = [conv + ("stages" in spec), null + ("stages" not in spec)]
    return pd.DataFrame([(p, c, n) for p, (c, n) in rows.items()],
                        columns=["path", "conv", "null"])


def test_textbook_example_matches_simulation(backend: str, tmp_path: Path) -> None:
    """Bryl's example (see test_attribution_markov): exact 0.5 / 1 / 1."""
    leads = {
        "J1": {"created": "2026-01-01", "touches": ["2026-01-02 C1", "2026-01-03 C2",
                                                    "2026-01-04 C3"], **won("2026-02-01", 1)},
        "J2": {"created": "2026-01-01", "touches": ["2026-01-02 C1"]},
        "J3": {"created": "2026-01-01", "touches": ["2026-01-02 C2", "2026-01-03 C3"]},
    }
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        ours = Markov().fit(build_journeys(ws)).removal_effects_
    theirs = _theirs(_paths(leads), nsim_start=1e6)
    for ch in ours.index:
        assert theirs[ch] == pytest.approx(ours[ch], abs=0.02)


def test_random_sample_converges_to_exact(backend: str, tmp_path: Path) -> None:
    """300 random journeys: with long walks (max_step=100) and 10⁶ simulations their removal
    effects are within 0.02 of our exact ones; with their defaults (walks cut at the longest
    path) they are lower — the truncation bias explained above."""
    leads = _journeys(np.random.default_rng(11), 300)
    with journeys_for(tmp_path, leads, backend=backend) as ws:
        ours = Markov().fit(build_journeys(ws)).removal_effects_
    paths = _paths(leads)
    converged = _theirs(paths, max_step=100, nsim_start=1e6)
    truncated = _theirs(paths)
    for ch in ours.index:
        assert converged[ch] == pytest.approx(ours[ch], abs=0.02), ch
    assert (truncated[ours.index] < ours + 0.01).all()
