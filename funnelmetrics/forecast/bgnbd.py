"""BG/NBD model of repeat purchases for non-contractual customers.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284. While alive, a customer
buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase it drops out with
probability p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (time of the
last purchase) and T (time since the first purchase), all in one time unit. The per-customer
log-likelihood (eq. 6, written as in the paper's implementation note):

    A1 = ln Γ(r + x) - ln Γ(r) + r ln α
    A2 = ln Γ(a + b) + ln Γ(b + x) - ln Γ(b) - ln Γ(a + b + x)
    A3 = -(r + x) ln(α + T)
    A4 = ln a - ln(b + x - 1) - (r + x) ln(α + t_x)          (x > 0 only)
    LL = A1 + A2 + ln(e^A3 + δ(x>0) e^A4)

Expected purchases in (T, T + t] given (x, t_x, T) is eq. 10, P(alive) is eq. 11 (from Fader,
Hardie & Lee's 2008 note "Computing P(alive) Using the BG/NBD Model").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PARAMS = ("r", "alpha", "a", "b")
LOG_BOUND = 25.0


def _log_likelihoods(params: Sequence[float], x: np.ndarray, t_x: np.ndarray,
                     big_t: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    r, alpha, a, b = params
    # b + (x - 1), not b + x - 1: for x = 1 that is b itself, where b + 1 - 1 rounds a tiny b
    # to 0 (the optimiser's steps reach b ~ 1e-16 on data with one repeat buyer). A parameter
    # that underflows to 0 makes the likelihood not finite, which the fit treats as out of
    # bounds: no warning for it.
    with np.errstate(divide="ignore", invalid="ignore"):
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + big_t)
        repeat = x > 0
        a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + (x - 1), 1.0))
                      - (r + x) * np.log(alpha + t_x), -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)


class BetaGeoNBD:
    """The BG/NBD model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    Assumptions: purchases while alive are Poisson (rate heterogeneity Gamma(r, α)); after any
    purchase a customer drops out with probability p (heterogeneity Beta(a, b)); rates and
    drop-out probabilities are independent. Times are in the unit of the summary.
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, x: Sequence[float], t_x: Sequence[float], big_t: Sequence[float]) -> BetaGeoNBD:
        """Maximum likelihood over the logs of (r, α, a, b)."""
        from scipy.optimize import minimize

        xs, txs, ts = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        if len(xs) == 0:
            raise ValueError("BG/NBD needs at least one customer")
        if np.any(txs > ts) or np.any(xs < 0) or np.any((xs > 0) & (txs <= 0)):
            raise ValueError("each customer needs x >= 0 and 0 < t_x <= T when x > 0")
        self.data_ = (xs, txs, ts)
        scale = max(float(ts.max()), 1.0)

        def negative(theta: np.ndarray) -> float:
            # the optimiser's steps may overflow a parameter (degenerate data: one repeat
            # buyer): such a point is out of bounds, quietly
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                p = np.exp(theta)
                value = _log_likelihoods(p, xs, txs, ts).sum()
                if self.penalizer:
                    value -= self.penalizer * float(np.sum(p ** 2))
            return -float(value) if np.isfinite(value) else 1e300

        start = np.log([1.0, scale / 10, 1.0, 1.0])
        # each parameter within e^±25: beyond, ln Γ of it loses the digits the likelihood
        # needs (degenerate data such as one repeat buyer drives a and b there)
        bounds = [(-LOG_BOUND, LOG_BOUND)] * 4
        res = minimize(negative, start, method="L-BFGS-B", bounds=bounds)
        res = minimize(negative, res.x, method="Nelder-Mead", bounds=bounds,
                       options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20000})
        self.theta_ = res.x
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(res.x))
        self.log_likelihood_ = -float(res.fun)
        from funnelmetrics.forecast.sbg import _hessian

        self.hessian_ = _hessian(negative, res.x)
        return self

    @property
    def params_(self) -> tuple[float, float, float, float]:
        return (self.r_, self.alpha_, self.a_, self.b_)

    def expected_purchases(self, t: float, x: Sequence[float] | float, t_x: Sequence[float] | float,
                           big_t: Sequence[float] | float,
                           params: Sequence[float] | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (eq. 10)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.params_ if params is None else params
        xs, txs, ts = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        z = t / (alpha + ts + t)
        head = (a + b + xs - 1) / (a - 1)
        tail = 1 - ((alpha + ts) / (alpha + ts + t)) ** (r + xs) * hyp2f1(r + xs, b + xs,
                                                                             a + b + xs - 1, z)
        return head * tail / self._odds_dead(xs, txs, ts, (r, alpha, a, b))

    def probability_alive(self, x: Sequence[float] | float, t_x: Sequence[float] | float,
                          big_t: Sequence[float] | float) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))."""
        xs, txs, ts = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        return 1.0 / self._odds_dead(xs, txs, ts, self.params_)

    def expected_purchases_new(self, t: float) -> float:
        """E[X(t)] for a customer just acquired (eq. 9)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.params_
        return float((a + b - 1) / (a - 1)
                     * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t))))

    def parameter_draws(self, size: int, *, seed: int = 0) -> np.ndarray:
        """(size, 4) draws of (r, α, a, b): normal on their logs, covariance the inverse
        Hessian of the negative log-likelihood (the likelihood's curvature)."""
        from funnelmetrics.forecast.sbg import _covariance

        rng = np.random.default_rng(seed)
        return np.exp(rng.multivariate_normal(self.theta_, _covariance(self.hessian_), size=size))

    @staticmethod
    def _odds_dead(xs: np.ndarray, txs: np.ndarray, ts: np.ndarray,
                   params: Sequence[float]) -> np.ndarray:
        r, alpha, a, b = params
        repeat = xs > 0
        ratio = np.where(repeat, a / np.where(repeat, b + (xs - 1), 1.0)
                         * ((alpha + ts) / (alpha + txs)) ** (r + xs), 0.0)
        return 1.0 + ratio
