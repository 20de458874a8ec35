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
from funnelmetrics.attribution.journeys import (
    CONVERSION,
    NULL,
    START,
    Journeys,
    lookback,
    within,
)
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
        """Per (previous state, state, end) the number of steps; `end` is set on a journey's
        last touch: 'c' converted, 'n' not.

        One window pass over every lead's touches (lag, lead, and the last touch when a range or
        a look-back needs the end of a non-converting journey); the journey cut is applied after
        the window, so a lag reaching before the look-back counts as (start).
        """
        c = journeys.candidates
        w = journeys.window(c)
        k = self.order
        cut = journeys.lookback_days is not None
        ranged = journeys.lo is not None or journeys.hi is not None
        cols: dict[str, ibis.Value] = {"_next": c.key.lead().over(w)}
        for i in range(1, k + 1):
            cols[f"_k{i}"] = c.key.lag(i).over(w)
            if cut:
                cols[f"_a{i}"] = c.occurred_at.lag(i).over(w)
        if cut or ranged:
            cols["_last"] = c.occurred_at.max().over(w)
        t = c.mutate(**cols)
        if cut or ranged:
            end = ibis.coalesce(t.converted_at, t._last)
            t = t.filter(within(end, journeys.lo, journeys.hi),
                         lookback(t.occurred_at, end, journeys.lookback_days))
        if cut:
            start = end - ibis.interval(seconds=round(journeys.lookback_days * 86_400))
            t = t.mutate(**{f"_k{i}": ibis.ifelse(t[f"_a{i}"] >= start, t[f"_k{i}"],
                                                  ibis.null("string")) for i in range(1, k + 1)})
        lags = [t[f"_k{i}"] for i in range(k, 0, -1)]  # oldest first
        if k == 1:
            state, prev = t.key, lags[0]
        else:
            state = _joined([*lags[1:], t.key])
            prev = ibis.ifelse(lags[-1].isnull(), ibis.null("string"), _joined(lags))
        t = t.mutate(_prev=prev.fill_null(START), _state=state,
                     _end=ibis.ifelse(t._next.isnull(),
                                      ibis.ifelse(t.converted_at.notnull(), "c", "n"),
                                      ibis.null("string")))
        return t.group_by(["_prev", "_state", "_end"]).aggregate(steps=t.count())

    # ---- NumPy: the chain ---------------------------------------------------------------------
    def _credit(self, journeys: Journeys) -> pd.DataFrame:
        counts = self.transition_counts_expr(journeys).execute()
        transitions = transition_table(counts)
        self.transitions_ = transitions
        probability, effects = removal_effects(transitions)
        self.conversion_probability_ = probability
        self.removal_effects_ = effects
        summary = journeys.summary
        total = float(effects.sum())
        share = effects / total if total > 0 else effects * 0.0
        return pd.DataFrame({"key": share.index.astype(object),
                             "credited_conversions": share.to_numpy() * summary.touched_conversions,
                             "credited_revenue": share.to_numpy() * summary.touched_value})


def _joined(parts: list[ibis.Value]) -> ibis.Value:
    """The non-null parts joined by SEP (a higher-order state)."""
    return ibis.array(parts).filter(lambda s: s.notnull()).join(SEP)


def transition_table(counts: pd.DataFrame) -> pd.DataFrame:
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


def removal_effects(transitions: pd.DataFrame) -> tuple[float, pd.Series]:
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
        effects[channel] = 0.0 if base <= 0 else max(0.0, 1.0 - _absorb(q, r, keep) / base)
    return base, pd.Series(effects, dtype="float64", name="removal_effect")


def _absorb(q: np.ndarray, r: np.ndarray, keep: np.ndarray) -> float:
    """P(absorbed in (conversion) from (start)) when the states outside `keep` lead to (null)."""
    qk = q[np.ix_(keep, keep)]
    x = np.linalg.solve(np.eye(len(qk)) - qk, r[keep])
    return float(min(max(x[0], 0.0), 1.0))
