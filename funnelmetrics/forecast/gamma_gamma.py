"""Gamma-Gamma model of the monetary value of repeat purchases.

Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value" (note, after
Colombo & Jiang 1999 and Fader, Hardie & Lee 2005 "RFM and CLV"). A customer's spends are
Gamma(p, ν) around its own mean p/ν, and ν ~ Gamma(q, γ) across customers. For a customer with
x repeat purchases of mean z̄ the likelihood is

    f(z̄ | p, q, γ, x) = Γ(px + q) / (Γ(px) Γ(q)) · γ^q z̄^(px-1) x^(px) / (γ + x z̄)^(px+q)

and its expected spend E(Z | z̄, x) = (p(γ + x z̄)) / (px + q - 1), a weighted mean of the
population mean pγ/(q - 1) and its own z̄. Assumes spend is independent of purchase frequency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _log_likelihoods(params: Sequence[float], x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    p, q, g = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
            + (px - 1) * np.log(zbar) + px * np.log(x) - (px + q) * np.log(g + x * zbar))


class GammaGamma:
    """The Gamma-Gamma spend model (Fader & Hardie 2013), fitted by maximum likelihood on the
    customers with at least one repeat purchase."""

    def fit(self, x: Sequence[float], zbar: Sequence[float]) -> GammaGamma:
        from scipy.optimize import minimize

        xs, zs = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
        keep = (xs > 0) & (zs > 0)
        xs, zs = xs[keep], zs[keep]
        if len(xs) < 2:
            raise ValueError("the Gamma-Gamma model needs at least two customers with a repeat "
                             "purchase of a positive amount")

        def negative(theta: np.ndarray) -> float:
            value = _log_likelihoods(np.exp(theta), xs, zs).sum()
            return -float(value) if np.isfinite(value) else 1e300

        start = np.log([1.0, 2.0, max(float(zs.mean()), 1e-6)])
        res = minimize(negative, start, method="Nelder-Mead",
                       options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20000})
        res = minimize(negative, res.x, method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000})
        self.p_, self.q_, self.v_ = (float(v) for v in np.exp(res.x))
        self.log_likelihood_ = -float(res.fun)
        self.customers_ = int(len(xs))
        return self

    def expected_spend(self, x: Sequence[float] | float,
                       zbar: Sequence[float] | float) -> np.ndarray:
        """E(Z | z̄, x) = p(γ + x z̄)/(px + q - 1); the population mean pγ/(q - 1) when x = 0."""
        xs, zs = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
        zs = np.where(xs > 0, zs, 0.0)
        return self.p_ * (self.v_ + xs * zs) / (self.p_ * xs + self.q_ - 1)

    @property
    def mean_spend_(self) -> float:
        """pγ/(q - 1), the population's expected spend per transaction (q > 1)."""
        return self.p_ * self.v_ / (self.q_ - 1) if self.q_ > 1 else float("inf")
