"""Markov-chain removal-effect attribution (SPEC §4), solved exactly.

Every journey in the query — converted (its touches up to the conversion) or not (all its touches)
— is a walk (start) → s₁ → … → sₙ → (conversion) | (null). With `order` k the states are the last
(up to) k channels, so a journey's first states are shorter. Transition probabilities are the
observed transition counts normalised per state; the counts come from one SQL pass (lag/lead over
the ordered touches), the chain is solved in NumPy.

P(conversion) is the absorption probability in (conversion) from (start): x = (I − Q)⁻¹ r, with Q
the transient-to-transient probabilities and r the probabilities of moving to (conversion).
Removing channel c turns every state that contains c into (null); the removal effect is
RE(c) = 1 − P₋c / P. Converted journeys with touches are credited by the normalised removal
effects RE(c) / Σ RE — both their count and their value (SPEC §4), unlike ChannelAttribution's
value-weighted paths. Each P₋c is an exact linear solve, never a simulation.

Source: Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the customer journey: Lessons
learned from graph-based online attribution modeling", IJRM 33(3); absorbing chains: Kemeny &
Snell (1960), *Finite Markov Chains*, ch. III.
"""

from __future__ import annotations

from collections import defaultdict

import ibis
import numpy as np
import pandas as pd

from funnelmetrics.attribution.base import AttributionModel
from funnelmetrics.attribution.journeys import CONVERSION, NULL, START, Journeys
from funnelmetrics.errors import QueryError

SEP = "\x1f"  # joins the channels of a higher-order state


class Markov(AttributionModel):
    """First-order (or `order`-k) absorbing Markov chain; removal effects solved exactly.

    Fitted: `credits_`, `transitions_` (from, to, count, probability), `conversion_probability_`
    (P of reaching (conversion) from (start)), `removal_effects_` (a Series by channel).
    """

    name = "markov"

    def __init__(self, *, order: int = 1) -> None:
        if int(order) != order or order < 1:
            raise QueryError(f"markov: order must be a positive integer, not {order}")
        self.order = int(order)

    # ---- SQL: transition counts ---------------------------------------------------------------
    def transition_counts_expr(self, journeys: Journeys) -> ibis.Table:
        """Per (previous state, state, end) the number of steps; end is set on a journey's last
        touch: 'c' converted, 'n' not. One window pass over the ordered touches."""
        p = journeys.paths
        w = ibis.window(group_by=p.lead_id, order_by=[p[c] for c in journeys.order_by])
        if self.order == 1:
            state = p.key
        else:
            lags = [p.key.lag(k).over(w) for k in range(self.order - 1, 0, -1)]
            state = ibis.array([*lags, p.key]).filter(lambda s: s.notnull()).join(SEP)
        t = p.mutate(_state=state, _next=p.key.lead().over(w))
        t = t.mutate(_prev=t._state.lag().over(w).fill_null(START),
                     _end=ibis.ifelse(t._next.isnull(),
                                      ibis.ifelse(t.converted, "c", "n"), ibis.null("string")))
        return t.group_by(["_prev", "_state", "_end"]).aggregate(steps=t.count())

    # ---- NumPy: the chain ---------------------------------------------------------------------
    def _credit(self, journeys: Journeys) -> pd.DataFrame:
        counts = self.transition_counts_expr(journeys).execute()
        transitions = _transitions(counts)
        self.transitions_ = transitions
        probability, effects = removal_effects(transitions, order=self.order)
        self.conversion_probability_ = probability
        self.removal_effects_ = effects
        summary = journeys.summary
        total = float(effects.sum())
        share = effects / total if total > 0 else effects * 0.0
        return pd.DataFrame({"key": share.index.astype(object),
                             "credited_conversions": share.to_numpy() * summary.touched_conversions,
                             "credited_revenue": share.to_numpy() * summary.touched_value})


def _transitions(counts: pd.DataFrame) -> pd.DataFrame:
    """Grouped step counts → (from, to, count, probability) over the whole chain."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for prev, state, end, steps in counts.itertuples(index=False):
        totals[(prev, state)] += steps
        if isinstance(end, str):
            totals[(state, CONVERSION if end == "c" else NULL)] += steps
    out = pd.DataFrame([(a, b, n) for (a, b), n in totals.items()],
                       columns=["from", "to", "count"])
    out["probability"] = out["count"] / out.groupby("from")["count"].transform("sum")
    return out.sort_values(["from", "to"], ignore_index=True)


def channels_of(state: str) -> list[str]:
    return state.split(SEP)


def removal_effects(transitions: pd.DataFrame, *, order: int = 1) -> tuple[float, pd.Series]:
    """P(conversion) and every channel's removal effect, each by an exact linear solve."""
    states = sorted(set(transitions["from"]) - {START})
    index = {s: i + 1 for i, s in enumerate(states)}  # 0 is (start)
    index[START] = 0
    n = len(states) + 1
    q = np.zeros((n, n))
    r = np.zeros(n)
    for a, b, prob in transitions[["from", "to", "probability"]].itertuples(index=False):
        if b == CONVERSION:
            r[index[a]] += prob
        elif b != NULL:
            q[index[a], index[b]] += prob
    base = _absorb(q, r, np.ones(n, dtype=bool))
    channels = sorted({c for s in states for c in channels_of(s)})
    effects = {}
    for channel in channels:
        keep = np.array([True] + [channel not in channels_of(s) for s in states])
        effects[channel] = 0.0 if base <= 0 else 1.0 - _absorb(q, r, keep) / base
    return base, pd.Series(effects, dtype="float64", name="removal_effect")


def _absorb(q: np.ndarray, r: np.ndarray, keep: np.ndarray) -> float:
    """P(absorbed in (conversion) from (start)) when the states outside `keep` lead to (null)."""
    qk = q[np.ix_(keep, keep)]
    x = np.linalg.solve(np.eye(len(qk)) - qk, r[keep])
    return float(min(max(x[0], 0.0), 1.0))
