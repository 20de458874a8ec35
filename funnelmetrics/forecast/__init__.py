"""Forecasts a CFO can check (issue 14): models fitted on catalogue output and the semantic
model's small aggregates.

- `sbg`: shifted-beta-geometric retention and DERL (Fader & Hardie 2007, 2010), contractual LTV;
- `bgnbd` and `gamma_gamma`: repeat purchases and spend (Fader, Hardie & Lee 2005; Fader &
  Hardie 2013), non-contractual LTV;
- `pipeline` and `backtest`: bookings from the open pipeline and new pipeline, P10/P50/P90 by
  Monte Carlo, re-run as of past periods against what closed;
- `series`: ETS forecasts of count and sum metrics.

Models follow the lifetimes habit: keyword-only configuration, `fit()` returns `self`, fitted
values end in `_`.
"""
