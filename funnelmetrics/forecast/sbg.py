"""Shifted-beta-geometric (sBG) retention model for contractual customers.

Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer Retention", Journal of
Interactive Marketing 21(1), 76-90: each customer renews at the end of every period with a
constant probability 1 - θ, and θ varies across customers as Beta(α, β). With n_t survivors at
the end of period t (t = 0 the cohort's size):

    P(T = t) = B(α + 1, β + t - 1) / B(α, β)      (churn at the end of period t, t >= 1)
    S(t)     = B(α, β + t) / B(α, β)

and, by recursion, P(T = 1) = α / (α + β), P(T = t) = (β + t - 2) / (α + β + t - 1) P(T = t-1).
Those still alive at the last observed period are right-censored; the log-likelihood is
Σ_t (n_{t-1} - n_t) ln P(T = t) + n_last ln S(last).

Discounted expected residual lifetime (Fader & Hardie 2010, "Customer-Base Valuation in a
Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85-93,
eq. 6): for a customer who has made n - 1 renewals, just before the n-th renewal decision,
with discount rate d per period,

    DERL(d | α, β, n) = (β + n - 1) / (α + β + n - 1) · 2F1(1, β + n; α + β + n; 1 / (1 + d))

and the discounted expected lifetime of a new customer (its first payment included) is
DEL(d) = 2F1(1, β; α + β; 1 / (1 + d)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# α and β are kept within [e^-9, e^9]: a cohort whose churn shows no heterogeneity (a constant
# retention rate) has its maximum at α, β → ∞ with α/(α+β) fixed, the geometric limit; at
# e^9 ≈ 8,100 the sBG is that limit to well within the data's precision.
LOG_BOUNDS = (-9.0, 9.0)


def churn_probabilities(alpha: float, beta: float, periods: int) -> np.ndarray:
    """P(T = t) for t = 1..periods, by the paper's recursion (eq. 7)."""
    p = np.empty(periods)
    if periods == 0:
        return p
    p[0] = alpha / (alpha + beta)
    for t in range(2, periods + 1):
        p[t - 1] = p[t - 2] * (beta + t - 2) / (alpha + beta + t - 1)
    return p


def survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """S(t) for t = 0..periods (S(0) = 1)."""
    return np.concatenate([[1.0], 1.0 - np.cumsum(churn_probabilities(alpha, beta, periods))])


def log_likelihood(alpha: float, beta: float, survivors: Sequence[float]) -> float:
    """The sBG log-likelihood of survivors n_0..n_T (n_0 the cohort size; right-censored)."""
    n = np.asarray(survivors, dtype=float)
    periods = len(n) - 1
    p = churn_probabilities(alpha, beta, periods)
    lost = n[:-1] - n[1:]
    s_last = 1.0 - p.sum()
    ll = float(np.sum(lost[lost > 0] * np.log(p[lost > 0])))
    return ll + (float(n[-1] * np.log(s_last)) if n[-1] > 0 else 0.0)


class ShiftedBetaGeometric:
    """The sBG model (Fader & Hardie 2007), fitted by maximum likelihood on a cohort's survivors.

    >>> m = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(m.alpha_, 3), round(m.beta_, 3)
    (0.668, 3.806)
    """

    def __init__(self, *, discount_rate: float = 0.0) -> None:
        self.discount_rate = discount_rate

    def fit(self, survivors: Sequence[float], *,
            starts: Sequence[tuple[float, float]] = ((0.0, 0.0), (-1.0, 1.0), (1.0, 2.0)),
            ) -> ShiftedBetaGeometric:
        """Maximum likelihood over (log α, log β) from each start (log values); `survivors` is
        n_0..n_T, n_0 > 0, non-increasing, T >= 1."""
        from scipy.optimize import minimize

        n = [float(v) for v in survivors]
        if len(n) < 2 or n[0] <= 0 or any(b > a for a, b in zip(n, n[1:], strict=False)):
            raise ValueError("sBG needs a cohort size > 0 and non-increasing survivors over "
                             "at least one period")
        self.survivors_ = n

        def negative(x: np.ndarray) -> float:
            a, b = np.exp(x)
            value = log_likelihood(a, b, n)
            return -value if np.isfinite(value) else 1e300

        best = None
        for start in starts:
            res = minimize(negative, np.array(start), method="Nelder-Mead",
                           bounds=[LOG_BOUNDS, LOG_BOUNDS],
                           options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 5000})
            if best is None or res.fun < best.fun:
                best = res
        assert best is not None
        self.alpha_, self.beta_ = (float(v) for v in np.exp(best.x))
        self.log_likelihood_ = -float(best.fun)
        self.hessian_ = _hessian(negative, best.x)
        return self

    def survival(self, periods: int) -> np.ndarray:
        """Projected S(t), t = 0..periods."""
        return survival(self.alpha_, self.beta_, periods)

    def retention_rates(self, periods: int) -> np.ndarray:
        """r_t = S(t) / S(t - 1) = (β + t - 1) / (α + β + t - 1), t = 1..periods (eq. 4)."""
        t = np.arange(1, periods + 1)
        return (self.beta_ + t - 1) / (self.alpha_ + self.beta_ + t - 1)

    def derl(self, renewals: int, *, discount_rate: float | None = None) -> float:
        """DERL of a customer who has made `renewals` renewals (n = renewals + 1), in periods
        (Fader & Hardie 2010, eq. 6)."""
        return derl(self.alpha_, self.beta_, renewals + 1,
                    self.discount_rate if discount_rate is None else discount_rate)

    def discounted_lifetime(self, *, discount_rate: float | None = None) -> float:
        """DEL of a new customer, its first period included (Fader & Hardie 2010)."""
        d = self.discount_rate if discount_rate is None else discount_rate
        return discounted_lifetime(self.alpha_, self.beta_, d)

    def bootstrap(self, size: int, *, seed: int = 0) -> np.ndarray:
        """(size, 2) parametric-bootstrap draws of (α, β): cohorts of the same size simulated
        from the fitted model over the same periods (churn period multinomial, the rest
        censored), each refitted. Honest at the geometric limit, where the curvature is flat."""
        n = self.survivors_
        periods, size_0 = len(n) - 1, int(n[0])
        p = churn_probabilities(self.alpha_, self.beta_, periods)
        probs = np.append(p, max(0.0, 1.0 - p.sum()))
        rng = np.random.default_rng(seed)
        start = (float(np.log(self.alpha_)), float(np.log(self.beta_)))
        out = np.empty((size, 2))
        for i in range(size):
            lost = rng.multinomial(size_0, probs / probs.sum())[:-1]
            sim = size_0 - np.concatenate([[0], np.cumsum(lost)])
            if sim[-1] == sim[0]:  # nobody churned: the rate is at its smallest
                out[i] = np.exp([LOG_BOUNDS[0], LOG_BOUNDS[1]])
                continue
            m = ShiftedBetaGeometric().fit(sim, starts=(start,))
            out[i] = (m.alpha_, m.beta_)
        return out

    def parameter_draws(self, size: int, *, seed: int = 0) -> np.ndarray:
        """(size, 2) draws of (α, β) from the likelihood's curvature: normal on (log α, log β)
        with the inverse Hessian as covariance (for intervals), kept within the fit's bounds
        (along the geometric limit's flat ridge the retention rate, not α or β, is what the
        data pin down)."""
        mean = np.log([self.alpha_, self.beta_])
        cov = _covariance(self.hessian_)
        rng = np.random.default_rng(seed)
        return np.exp(np.clip(rng.multivariate_normal(mean, cov, size=size), *LOG_BOUNDS))


def derl(alpha: float, beta: float, n: int, d: float) -> float:
    """(β + n - 1) / (α + β + n - 1) · 2F1(1, β + n; α + β + n; 1/(1+d)) (Fader & Hardie
    2010, eq. 6). With d = 0 it is the undiscounted expected residual lifetime, finite only when
    α > 1: (β + n - 1) / (α - 1)."""
    from scipy.special import hyp2f1

    if d <= 0:
        return (beta + n - 1) / (alpha - 1) if alpha > 1 else float("inf")
    return float((beta + n - 1) / (alpha + beta + n - 1)
                 * hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + d)))


def discounted_lifetime(alpha: float, beta: float, d: float) -> float:
    """DEL = Σ_{t>=0} S(t) / (1+d)^t = 2F1(1, β; α + β; 1/(1+d))."""
    from scipy.special import hyp2f1

    if d <= 0:
        return (alpha + beta - 1) / (alpha - 1) if alpha > 1 else float("inf")
    return float(hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + d)))


def _hessian(f: object, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """The Hessian of f at x by central differences (for the likelihood's curvature)."""
    k = len(x)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)  # type: ignore[operator]
                         + f(x - ei - ej)) / (4 * h * h)  # type: ignore[operator]
    return out


def _covariance(hessian: np.ndarray) -> np.ndarray:
    """The inverse Hessian of the negative log-likelihood, made symmetric; zero when the
    curvature is degenerate (no interval rather than a wrong one)."""
    try:
        cov = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.zeros_like(hessian)
    cov = (cov + cov.T) / 2
    if np.any(np.linalg.eigvalsh(cov) < 0):
        return np.zeros_like(hessian)
    return cov
