"""Shapley-value attribution over channel coalitions (issue #4, SPEC §4).

The characteristic function is v(S) = the conversions (or the value) of the converted journeys
whose set of channels is a subset of S. Each converted journey's set of channels is computed in
SQL (a bitmask up to 62 channels, else the sorted names) and the journeys are counted per set, so
NumPy sees one row per distinct set.
Up to `max_exact_channels` (12) channels the values are exact: v over all 2ⁿ coalitions by a
subset-sum (zeta) transform, then φᵢ = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)).
Beyond that, `n_samples` random channel orders (seeded) estimate them: in each order, a set's
conversions go to its member that arrives last (its marginal contribution). Both are efficient —
the values add up to v(all) − v(∅), the touched conversions — so nothing is created or lost.

Because v is a sum of unanimity games, the exact value is also φᵢ = Σ over sets containing i of
their conversions / |set| (Shapley 1953, lemma on carrier games); the tests check against it.
Non-converting journeys contribute 0 to every v(S) under this characteristic function.

Sources: Shapley (1953), "A value for n-person games"; Shao & Li (2011), "Data-driven
multi-touch attribution models", KDD; Castro, Gómez & Tejada (2009), "Polynomial calculation of
the Shapley value based on sampling", Computers & OR 36(5).
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd

from funnelmetrics.attribution.base import AttributionModel
from funnelmetrics.attribution.journeys import Journeys
from funnelmetrics.errors import QueryError

SEP = "\x1f"
MAX_BITS = 62  # channel sets as BIGINT bitmasks up to this many channels


class Shapley(AttributionModel):
    """Shapley values of the channels (exact up to `max_exact_channels`, sampled beyond).

    Fitted: `credits_`, `coalitions_` (one row per distinct channel set: `channels`,
    `conversions`, `value`), `exact_` (whether the values are exact).
    """

    name = "shapley"

    def __init__(self, *, max_exact_channels: int = 12, n_samples: int = 2000,
                 seed: int = 0) -> None:
        if max_exact_channels < 1 or max_exact_channels > 20:
            raise QueryError("shapley: max_exact_channels must be between 1 and 20")
        if n_samples < 1:
            raise QueryError("shapley: n_samples must be positive")
        self.max_exact_channels = int(max_exact_channels)
        self.n_samples = int(n_samples)
        self.seed = int(seed)

    def coalitions_expr(self, journeys: Journeys, keys: list[str] | None = None) -> ibis.Table:
        """Converted journeys counted per distinct channel set (`channels`, `conversions`,
        `value`), in SQL. With `keys` (at most 62) a set is a bitmask — a BIT_OR per journey,
        one hash aggregate; otherwise the sorted distinct keys joined by SEP."""
        t = journeys.touches
        if keys is not None and len(keys) <= MAX_BITS:
            bits = ibis.memtable({"_bkey": keys, "_bit": [1 << i for i in range(len(keys))]},
                                 schema={"_bkey": "string", "_bit": "int64"})
            t = t.inner_join(bits, t.key == bits._bkey)
            channel_set = _bit_or(t._bit)
        else:
            # sorted after collecting: Spark SQL orders no aggregate (collect_set + array_sort)
            channel_set = t.key.collect(distinct=True).sort().join(SEP)
        per_lead = t.group_by(_lid=t.lead_id).aggregate(_set=channel_set, _value=t.value.max())
        return per_lead.group_by(channels=per_lead._set).aggregate(
            conversions=per_lead.count(), value=per_lead._value.sum())

    def _credit(self, journeys: Journeys) -> pd.DataFrame:
        t = journeys.touches
        keys = sorted(t.select(t.key).distinct().execute()["key"].dropna())
        sets = self.coalitions_expr(journeys, keys).execute()
        if len(keys) <= MAX_BITS:
            sets["channels"] = sets["channels"].map(
                lambda m: tuple(k for i, k in enumerate(keys) if int(m) >> i & 1))
        else:
            sets["channels"] = sets["channels"].map(lambda s: tuple(s.split(SEP)))
        self.coalitions_ = sets
        players = sorted({c for s in sets["channels"] for c in s})
        weights = sets[["conversions", "value"]].to_numpy(dtype="float64")
        members = _member_index(sets["channels"], players)
        self.exact_ = len(players) <= self.max_exact_channels
        if self.exact_:
            phi = exact_shapley(members, weights, len(players))
        else:
            phi = sampled_shapley(members, weights, len(players), n_samples=self.n_samples,
                                  seed=self.seed)
        return pd.DataFrame({"key": pd.Series(players, dtype="object"),
                             "credited_conversions": phi[:, 0], "credited_revenue": phi[:, 1]})


def _member_index(sets: pd.Series, players: list[str]) -> list[list[int]]:
    pos = {c: i for i, c in enumerate(players)}
    return [[pos[c] for c in s] for s in sets]


def exact_shapley(members: list[list[int]], weights: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values (n × k) of v(S) = Σ weights of the sets ⊆ S, by enumeration."""
    k = weights.shape[1]
    v = np.zeros((1 << n, k))
    for m, w in zip(members, weights, strict=True):
        v[sum(1 << i for i in m)] += w
    masks = np.arange(1 << n)
    for i in range(n):  # subset sums, one bit at a time: v(S) = Σ_{T ⊆ S} f(T)
        with_i = masks[(masks >> i) & 1 == 1]
        v[with_i] += v[with_i ^ (1 << i)]
    sizes = np.bitwise_count(masks)
    coef = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                     for s in range(n)])
    phi = np.zeros((n, k))
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        gain = v[without | (1 << i)] - v[without]
        phi[i] = coef[sizes[without]] @ gain
    return phi


def sampled_shapley(members: list[list[int]], weights: np.ndarray, n: int, *,
                    n_samples: int, seed: int, batch: int = 64) -> np.ndarray:
    """Shapley values estimated over `n_samples` random orders of the players (seeded)."""
    k = weights.shape[1]
    flat = np.fromiter((i for m in members for i in m), dtype=np.int64)
    starts = np.cumsum([0] + [len(m) for m in members])[:-1]
    rng = np.random.default_rng(seed)
    phi = np.zeros((n, k))
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        perms = np.argsort(rng.random((b, n)), axis=1)  # perms[s, r] = player at rank r
        ranks = np.argsort(perms, axis=1)  # ranks[s, p] = rank of player p
        last = np.maximum.reduceat(ranks[:, flat], starts, axis=1)  # (b, sets)
        winners = np.take_along_axis(perms, last, axis=1)  # the member arriving last
        for j in range(k):
            phi[:, j] += np.bincount(winners.ravel(), weights=np.tile(weights[:, j], b),
                                     minlength=n)
        done += b
    return phi / n_samples


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(bits: int) -> int:  # pragma: no cover - builtin
    """BIT_OR, an aggregate of DuckDB, PostgreSQL and Spark SQL alike (Ibis compiles its own
    `bit_or()` for no Spark)."""
