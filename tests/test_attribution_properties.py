"""What must hold for every model on any journeys: credit is conserved (issue #4 §4).

Credited conversions add up to the converted journeys and credited revenue to their value —
nothing created, nothing lost — "(no touch)" included, with or without a look-back, by channel
or by campaign, with Markov and Shapley (exact and sampled) too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_attribution_journeys import fill

import funnelmetrics
from funnelmetrics.attribution import MODELS, Markov, Shapley, build_journeys
from funnelmetrics.attribution.journeys import CONVERSION, NULL
from funnelmetrics.attribution.markov import SEP, transition_table
from funnelmetrics.workspace import Workspace

DAY0 = dt.datetime(2026, 1, 1)
CHANNELS = ["ads", "email", "social", "webinar", "seo"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = funnelmetrics.open(tmp_path_factory.mktemp("prop") / "w.duckdb")
    yield w
    w.close()


def _when(hours: int) -> str:
    return (DAY0 + dt.timedelta(hours=hours)).isoformat()


touch = st.tuples(st.integers(0, 24 * 40), st.sampled_from(CHANNELS),
                  st.sampled_from([None, "c1", "c2"]))
lead = st.fixed_dictionaries({
    "created": st.integers(0, 24 * 40),
    "touches": st.lists(touch, max_size=6, unique_by=lambda t: (t[0], t[1])),
    "won_at": st.none() | st.integers(0, 24 * 45),
    "deal_at": st.none() | st.integers(0, 24 * 45),
    "amount": st.sampled_from([0.0, 1.0, 250.0, 1234.5]),
})


def _spec(raw: dict) -> dict:
    spec = {"created": _when(raw["created"]),
            "touches": [" ".join(x for x in (_when(h), ch, camp) if x)
                        for h, ch, camp in raw["touches"]]}
    if raw["won_at"] is not None:
        spec["stages"] = {"won": _when(max(raw["won_at"], raw["created"]))}
        opened = _when(min(raw["deal_at"] or raw["created"], max(raw["won_at"], raw["created"])))
        spec["deals"] = [(opened, "won", raw["amount"], spec["stages"]["won"])]
    return spec


@given(leads=st.lists(lead, min_size=1, max_size=8),
       lookback=st.none() | st.sampled_from([1.0, 10.0]),
       by=st.sampled_from(["channel", "campaign_id"]))
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_credit_is_conserved(ws: Workspace, leads: list[dict], lookback: float | None,
                             by: str) -> None:
    fill(ws, {f"L{i}": _spec(raw) for i, raw in enumerate(leads)})
    journeys = build_journeys(ws, by=by, lookback_days=lookback)
    expected_n = sum(raw["won_at"] is not None for raw in leads)
    expected_v = sum(raw["amount"] for raw in leads if raw["won_at"] is not None)
    summary = journeys.summary
    assert (summary.conversions, summary.value) == (expected_n, pytest.approx(expected_v))
    models = [cls() for cls in MODELS.values()]
    models.append(Shapley(max_exact_channels=1, n_samples=50, seed=1))
    for model in models:
        c = model.fit(journeys).credits_
        assert c["credited_conversions"].sum() == pytest.approx(expected_n, abs=1e-9), model
        assert c["credited_revenue"].sum() == pytest.approx(expected_v, abs=1e-6), model
        assert (c["credited_conversions"] >= -1e-12).all(), model


def _walk_counts(paths: pd.DataFrame, order_by: list[str], order: int) -> dict:
    """Transition counts walked journey by journey in Python — the slow, obvious definition."""
    counts: dict[tuple[str, str], int] = {}
    for _, journey in paths.sort_values(["lead_id", *order_by]).groupby("lead_id"):
        keys = list(journey["key"])
        states = [SEP.join(keys[max(0, i - order + 1):i + 1]) for i in range(len(keys))]
        end = CONVERSION if journey["converted"].iloc[0] else NULL
        for a, b in zip(["(start)", *states], [*states, end], strict=True):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return counts


@given(leads=st.lists(lead, min_size=1, max_size=8),
       lookback=st.none() | st.sampled_from([1.0, 10.0]),
       window=st.none() | st.tuples(st.integers(0, 30), st.integers(0, 30)),
       order=st.sampled_from([1, 2, 3]),
       by=st.sampled_from(["channel", "campaign_id"]))
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_markov_one_pass_counts_match_the_journeys(ws: Workspace, leads: list[dict],
                                                   lookback: float | None,
                                                   window: tuple[int, int] | None, order: int,
                                                   by: str) -> None:
    """The one-window SQL that counts Markov transitions (range and look-back applied after the
    window) counts exactly what walking each journey of `Journeys.paths` counts."""
    fill(ws, {f"L{i}": _spec(raw) for i, raw in enumerate(leads)})
    start = end = None
    if window is not None:
        start = (DAY0 + dt.timedelta(days=min(window))).date()
        end = (DAY0 + dt.timedelta(days=max(window))).date()
    journeys = build_journeys(ws, by=by, lookback_days=lookback, start=start, end=end)
    counts = Markov(order=order).transition_counts_expr(journeys).execute()
    got = {(a, b): n for a, b, n, _ in transition_table(counts).itertuples(index=False)}
    assert got == _walk_counts(journeys.paths.execute(), journeys.order_by, order)
