"""Probabilistic LTV from the workspace: sBG per acquisition cohort of subscription accounts,
BG/NBD + Gamma-Gamma over repeat won deals, and the catalogue's simple LTV.

Everything is aggregated in the engine (Ibis over the semantic model's entities as of the
instant, amounts in the reporting currency); only small results come back: survivors per
(cohort, lifetime), one summary row per account for BG/NBD (the answer's grain).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

MONTHS = {"month": 1, "quarter": 3, "year": 12}
DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
OPEN_ENDED = 10 ** 6  # lifetime of an account still paying: never churned


def per_period_rate(annual: float, months: int) -> float:
    """An annual discount rate as a rate per period of `months` months: (1 + d)^(m/12) - 1."""
    return (1.0 + annual) ** (months / 12) - 1.0


def _now(as_of: dt.datetime | None) -> dt.datetime:
    return as_of if as_of is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)


def cohort_lifetimes(ws: Workspace, *, unit: str, as_of: dt.datetime | None) -> list[dict]:
    """Accounts per (cohort period key, lifetime in whole periods) and their MRR now.

    An account's cohort is the period of its first paid subscription (mrr > 0); it churns when
    its last subscription ends, if none is active at the instant (a contractual customer churns
    once: a gap with a later reactivation is not modelled); its lifetime is the number of
    period boundaries after the cohort's period that it renewed across — still paying just
    after the boundary (ended_at after it, or no end). An end exactly at a boundary is a renewal
    not made, as in Fader & Hardie (2007): 1000 customers of year 0 of whom 869 pay in year 1.
    """
    import ibis

    from funnelmetrics.compile.time import Grain, key_start, period_key, to_local
    from funnelmetrics.semantic.model import Scope
    from funnelmetrics.semantic.registry import base

    if unit not in MONTHS:
        raise QueryError(f"--unit {unit!r}: use one of {', '.join(MONTHS)} for the sBG model")
    grain, tz = Grain(unit), ws.config.timezone
    subs = base(Scope(ws, as_of), "subscriptions")
    subs = subs.filter(subs.mrr > 0)
    now = _now(as_of)
    active = subs.ended_at.isnull() | (subs.ended_at > ibis.literal(now))
    per = subs.group_by("account_id").aggregate(
        first=subs.started_at.min(),
        still=active.cast("int32").max(),
        last_end=subs.ended_at.max(),
        mrr_now=ibis.ifelse(active, subs.mrr, 0.0).sum(),
    )
    cohort = period_key(per["first"], grain, tz)
    end_key = period_key(per.last_end, grain, tz)
    # an end at a period's first instant is a renewal not made: that boundary is not survived
    on_boundary = to_local(per.last_end, tz) == key_start(end_key, grain).cast("timestamp")
    lifetime = ibis.ifelse(per.still == 1, OPEN_ENDED,
                           end_key - cohort - ibis.ifelse(on_boundary, 1, 0).cast("int64"))
    rows = per.mutate(cohort=cohort, lifetime=lifetime).group_by(["cohort", "lifetime"]).aggregate(
        accounts=per.account_id.count(), mrr_now=per.mrr_now.sum())
    return rows.order_by(["cohort", "lifetime"]).to_pyarrow().to_pylist()


def _key_start(key: int, unit: str) -> dt.date:
    if unit == "month":
        return dt.date(key // 12, key % 12 + 1, 1)
    if unit == "quarter":
        return dt.date(key // 4, key % 4 * 3 + 1, 1)
    return dt.date(key, 1, 1)


def survivors(lifetimes: list[tuple[int, int]], observed: int) -> list[int]:
    """n_0..n_observed from (lifetime, accounts): n_0 the cohort, n_t those that renewed across
    t boundaries (lifetime >= t)."""
    return [sum(n for life, n in lifetimes if life >= t) for t in range(observed + 1)]


def sbg_cohorts(ws: Workspace, *, unit: str = "month", as_of: dt.datetime | None = None,
                margin: float | None = None, discount_rate: float = 0.10, horizon: int = 12,
                draws: int = 50, seed: int = 0) -> list[dict[str, Any]]:
    """One dict per acquisition cohort: the sBG fit on its survivors at each period boundary up to
    the instant, projected survival and retention for `horizon` more periods, DERL of its
    active accounts and LTV = margin × MRR per account × months per period × DERL, with an 80%
    interval (P10-P90) by parametric bootstrap. `discount_rate` is annual."""
    from funnelmetrics.forecast.sbg import ShiftedBetaGeometric, derl

    margin = ws.config.gross_margin if margin is None else margin
    months = MONTHS.get(unit, 1)
    d = per_period_rate(discount_rate, months)
    now = _now(as_of)
    now_key = _period_index(now.date(), unit)
    by_cohort: dict[int, list[tuple[int, int, float]]] = {}
    for row in cohort_lifetimes(ws, unit=unit, as_of=as_of):
        by_cohort.setdefault(int(row["cohort"]), []).append(
            (int(row["lifetime"]), int(row["accounts"]), float(row["mrr_now"] or 0.0)))
    out = []
    for key in sorted(by_cohort):
        items = by_cohort[key]
        observed = now_key - key  # period ends between the cohort's period and the instant
        n = survivors([(life, k) for life, k, _ in items], observed)
        active = sum(k for life, k, _ in items if life == OPEN_ENDED)
        mrr = sum(m for _, _, m in items) / active if active else None
        row: dict[str, Any] = {"model": "sbg", "cohort": _key_start(key, unit).isoformat(),
                               "unit": unit, "customers": n[0], "active": active,
                               "survivors": n, "alpha": None, "beta": None,
                               "log_likelihood": None, "survival": None, "retention": None,
                               "derl": None, "mrr": mrr, "ltv": None, "ltv_p10": None,
                               "ltv_p90": None, "note": None}
        if observed < 2 or n[0] < 2:
            row["note"] = "fewer than 2 period ends observed: no fit"
        elif n[-1] == n[0]:
            row["note"] = "no account has churned yet: no fit"
        else:
            m = ShiftedBetaGeometric(discount_rate=d).fit(n)
            value = m.derl(observed)
            per_period = None if mrr is None else margin * mrr * months
            row.update(alpha=m.alpha_, beta=m.beta_, log_likelihood=m.log_likelihood_,
                       survival=[float(v) for v in m.survival(observed + horizon)],
                       retention=[float(v) for v in m.retention_rates(observed + horizon)],
                       derl=value, ltv=None if per_period is None else per_period * value)
            if per_period is not None and draws:
                sample = [derl(a, b, observed + 1, d) for a, b in m.bootstrap(draws, seed=seed)]
                low, high = np.percentile(sample, [10, 90])
                row.update(ltv_p10=per_period * float(low), ltv_p90=per_period * float(high))
        out.append(row)
    return out


def _period_index(day: dt.date, unit: str) -> int:
    if unit == "month":
        return day.year * 12 + day.month - 1
    if unit == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def purchase_summary(ws: Workspace, *, unit: str, calibration_end: dt.date) -> dict[str, np.ndarray]:
    """Per account with a won deal closed on a day up to and including `calibration_end`
    (local days of the workspace zone): x = distinct purchase days - 1, t_x = first to last
    purchase day, T = first purchase day to `calibration_end`, in `unit`s, and the mean amount
    of the repeat days (z̄, 0 when x = 0). One row per account: the answer's grain."""
    import ibis

    from funnelmetrics.compile.time import to_local
    from funnelmetrics.semantic.model import Scope
    from funnelmetrics.semantic.registry import base

    if unit not in DAYS:
        raise QueryError(f"--unit {unit!r}: use one of {', '.join(DAYS)} for the BG/NBD model")
    end_next = dt.datetime.combine(calibration_end + dt.timedelta(days=1), dt.time())
    from funnelmetrics.compile.time import local_to_utc

    deals = base(Scope(ws, local_to_utc(end_next, ws.config.timezone)), "opportunities")
    won = deals.filter((deals.status == "won") & deals.account_id.notnull())
    won = won.mutate(day=to_local(won.closed_at, ws.config.timezone).date(),
                     amount=won.amount.fill_null(0.0))
    days = won.group_by(["account_id", "day"]).aggregate(amount=won.amount.sum())
    first = days.group_by("account_id").aggregate(first=days.day.min())
    days = days.join(first, "account_id")
    per = days.group_by("account_id").aggregate(
        purchases=days.day.count(), first=days["first"].min(), last=days.day.max(),
        repeat_amount=ibis.ifelse(days.day > days["first"], days.amount, 0.0).sum())
    table = per.order_by("account_id").to_pyarrow()
    unit_days = DAYS[unit]
    first_days = table.column("first").to_pylist()
    x = np.array(table.column("purchases").to_pylist(), dtype=float) - 1
    t_x = np.array([(b - a).days for a, b in zip(first_days, table.column("last").to_pylist(),
                                                  strict=True)], dtype=float) / unit_days
    big_t = np.array([(calibration_end - a).days for a in first_days], dtype=float) / unit_days
    repeat = np.array(table.column("repeat_amount").to_pylist(), dtype=float)
    zbar = np.divide(repeat, x, out=np.zeros_like(repeat), where=x > 0)
    return {"account_id": np.array(table.column("account_id").to_pylist(), dtype=object),
            "x": x, "t_x": t_x, "T": big_t, "zbar": zbar}


def bgnbd_ltv(ws: Workspace, *, unit: str = "week", calibration_end: dt.date | None = None,
              horizon_months: int = 12, margin: float | None = None, discount_rate: float = 0.10,
              by_account: bool = False, draws: int = 100, seed: int = 0) -> dict[str, Any]:
    """BG/NBD on repeat won deals per account and Gamma-Gamma on their amounts; CLV per
    account = margin × expected spend × expected purchases in each of the next
    `horizon_months` months, discounted monthly at the annual `discount_rate`. The interval of
    the mean CLV (P10-P90) comes from BG/NBD parameter draws (the likelihood's curvature)."""
    from funnelmetrics.forecast.bgnbd import BetaGeoNBD
    from funnelmetrics.forecast.gamma_gamma import GammaGamma

    margin = ws.config.gross_margin if margin is None else margin
    end = calibration_end or (_now(None).date() - dt.timedelta(days=1))
    data = purchase_summary(ws, unit=unit, calibration_end=end)
    keep = data["T"] > 0  # a first purchase on the last day itself tells nothing yet
    data = {k: v[keep] for k, v in data.items()}
    if len(data["x"]) < 2 or not (data["x"] > 0).any():
        raise QueryError("BG/NBD needs won deals of at least 2 accounts, some with a repeat "
                         f"purchase, closed before {end.isoformat()}")
    model = BetaGeoNBD().fit(data["x"], data["t_x"], data["T"])
    try:
        spend_model: GammaGamma | None = GammaGamma().fit(data["x"], data["zbar"])
    except ValueError:
        spend_model = None
    spend = (spend_model.expected_spend(data["x"], data["zbar"]) if spend_model is not None
             else np.full(len(data["x"]), np.nan))
    month = DAYS["month"] / DAYS[unit]
    d_month = per_period_rate(discount_rate, 1)

    def clv(params: tuple[float, ...]) -> np.ndarray:
        total = np.zeros(len(data["x"]))
        before = np.zeros(len(data["x"]))
        for m in range(1, horizon_months + 1):
            upto = model.expected_purchases(m * month, data["x"], data["t_x"], data["T"], params)
            total += (upto - before) / (1 + d_month) ** m
            before = upto
        return margin * spend * total

    values = clv(model.params_)
    expected = model.expected_purchases(horizon_months * month, data["x"], data["t_x"], data["T"])
    means = [float(np.mean(clv(tuple(p)))) for p in model.parameter_draws(draws, seed=seed)]
    out: dict[str, Any] = {
        "model": "bgnbd", "unit": unit, "calibration_end": end.isoformat(),
        "horizon_months": horizon_months, "r": model.r_, "alpha": model.alpha_, "a": model.a_,
        "b": model.b_, "log_likelihood": model.log_likelihood_,
        "p": None if spend_model is None else spend_model.p_,
        "q": None if spend_model is None else spend_model.q_,
        "v": None if spend_model is None else spend_model.v_,
        "accounts": int(len(data["x"])), "repeat_accounts": int((data["x"] > 0).sum()),
        "expected_purchases": float(expected.sum()),
        "clv_mean": _finite(np.mean(values)), "clv_p10": None, "clv_p90": None,
        "note": None if spend_model is not None else
        "fewer than 2 accounts with a repeat purchase: no spend model, no CLV"}
    if spend_model is not None and means:
        low, high = np.percentile(means, [10, 90])
        out.update(clv_p10=float(low), clv_p90=float(high))
    if by_account:
        alive = model.probability_alive(data["x"], data["t_x"], data["T"])
        out["rows"] = [{"account_id": a, "x": int(x), "t_x": float(tx), "T": float(t),
                        "expected_purchases": float(e), "p_alive": float(p),
                        "expected_spend": _finite(s), "clv": _finite(c)}
                       for a, x, tx, t, e, p, s, c in zip(
                           data["account_id"], data["x"], data["t_x"], data["T"], expected,
                           alive, spend, values, strict=True)]
    return out


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
