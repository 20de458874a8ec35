"""Campaigns (quarterly, per paid channel) and the spend behind them.

Budgets are sized from the expected lead volume of each channel × a cost per lead, so cost per
lead and CAC stay realistic at any data size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.sink import Columns, labels, numbered
from funnelmetrics.demo.timeline import (
    DAY,
    Window,
    expected_leads,
    lead_intensity,
    month_of,
    month_start,
)

THEMES = {
    "paid_search": ("Brand", "Competitor", "Generic"),
    "paid_social": ("LinkedIn Lead Gen", "Meta Retargeting", "LinkedIn Thought Leadership"),
    "events": ("Roadshow", "Webinar Series"),
    "email": ("Newsletter", "Nurture"),
}
LABEL = {"paid_search": "Search", "paid_social": "Social", "events": "Events", "email": "Email"}
WEEKEND_SPEND = 0.75
PRE_WINDOW_QUARTERS = 1  # touches precede the first leads; so do the campaigns


@dataclass(frozen=True)
class Campaigns:
    """Campaigns laid out quarter by quarter: index = quarter × per_quarter + offset + theme."""

    first_quarter: int  # quarters since the epoch
    n_quarters: int
    offset: np.ndarray  # by source code; -1 for channels without campaigns
    themes: np.ndarray  # by source code
    per_quarter: int
    budget: np.ndarray

    @property
    def size(self) -> int:
        """Number of campaigns."""
        return self.n_quarters * self.per_quarter

    def pick(self, rng: np.random.Generator, channel: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A campaign of `channel` running at instant `t` (-1 for channels without any)."""
        quarter = np.clip(month_of(t) // 3 - self.first_quarter, 0, self.n_quarters - 1)
        offset, k = self.offset[channel], self.themes[channel]
        theme = np.floor(rng.random(channel.size) * np.maximum(k, 1)).astype(np.int64)
        return np.where(offset >= 0, quarter * self.per_quarter + offset + theme, -1)

    def layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Quarter, channel and theme number of every campaign."""
        channel = np.repeat([A.SOURCE[c] for c in THEMES], [len(t) for t in THEMES.values()])
        theme = np.concatenate([np.arange(len(t)) for t in THEMES.values()])
        quarter = np.repeat(np.arange(self.n_quarters), self.per_quarter)
        return quarter, np.tile(channel, self.n_quarters), np.tile(theme, self.n_quarters)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Start (inclusive) and end (exclusive) instants of every campaign."""
        quarter, _, _ = self.layout()
        month = (self.first_quarter + quarter) * 3
        return month_start(month), month_start(month + 3)


def draw_campaigns(rng: np.random.Generator, window: Window, leads: int) -> Campaigns:
    """Quarterly campaigns for every campaign channel, budgets from expected leads × CPL."""
    first_q = int(month_of(np.array([window.start]))[0] // 3) - PRE_WINDOW_QUARTERS
    last_q = int(month_of(np.array([window.cutoff - 1]))[0] // 3)
    n_q = last_q - first_q + 1
    offset = np.full(len(A.SOURCES), -1)
    themes = np.zeros(len(A.SOURCES), dtype=np.int64)
    at = 0
    for channel, names in THEMES.items():
        offset[A.SOURCE[channel]], themes[A.SOURCE[channel]] = at, len(names)
        at += len(names)
    shell = Campaigns(first_q, n_q, offset, themes, at, np.zeros(n_q * at))
    quarter_of_day = month_of(window.day_numbers() * DAY) // 3 - first_q
    weights = lead_intensity(window)
    leads_in = np.bincount(quarter_of_day, weights=weights / weights.sum() * leads, minlength=n_q)
    days_in = np.bincount(quarter_of_day, minlength=n_q)
    rate = leads_in / np.maximum(days_in, 1)  # expected leads a day while the quarter runs
    rate[:PRE_WINDOW_QUARTERS] = rate[PRE_WINDOW_QUARTERS] * 0.85
    start, end = shell.bounds()
    quarter, channel, _ = shell.layout()
    budget = (rate[quarter] * (end - start) / DAY * A.LEAD_SHARE_BY_SOURCE[channel]
              * A.CPL[channel] / themes[channel] * np.exp(rng.normal(0.0, 0.2, quarter.size)))
    return Campaigns(first_q, n_q, offset, themes, at, np.round(budget, -2))


def campaigns_table(campaigns: Campaigns) -> Columns:
    """The campaigns table (SPEC §2)."""
    quarter, channel, theme = campaigns.layout()
    start, end = campaigns.bounds()
    q = campaigns.first_quarter + quarter
    names = [f"{LABEL[A.SOURCES[c]]} · {THEMES[A.SOURCES[c]][j]} · {qq // 4 + 1970} Q{qq % 4 + 1}"
             for c, j, qq in zip(channel.tolist(), theme.tolist(), q.tolist(), strict=True)]
    return {"campaign_id": campaign_ids(np.arange(campaigns.size)),
            "channel": labels(A.SOURCES, channel), "name": pa.array(names, pa.string()),
            "started_at": start, "ended_at": end - 1, "budget": campaigns.budget}


def campaign_ids(index: np.ndarray) -> pa.Array:
    """Campaign ids (C0001 …); negative indexes become null."""
    return numbered("C", index, 4)


def spend_table(rng: np.random.Generator, campaigns: Campaigns, window: Window,
                leads: int) -> Columns:
    """The spend table (SPEC §2): daily campaign spend, monthly channel, tool and sales costs."""
    daily = _campaign_days(rng, campaigns, window)
    monthly = _monthly_costs(rng, window, leads)
    raw = {key: np.concatenate([daily[key], monthly[key]]) for key in daily}
    return {"date": raw["date"], "amount": raw["amount"],
            "channel": labels(A.SOURCES, raw["channel"]),
            "campaign_id": campaign_ids(raw["campaign_id"]),
            "category": labels(("marketing", "sales"), raw["category"]),
            "currency": labels(A.CURRENCIES, np.zeros(raw["date"].size, dtype=np.int64))}


def _campaign_days(rng: np.random.Generator, campaigns: Campaigns, window: Window) -> Columns:
    """One marketing row per campaign and day it ran inside the window."""
    start, end = campaigns.bounds()
    first = np.maximum(start, window.start) // DAY
    last = np.minimum(end, window.cutoff) // DAY
    n_days = np.maximum(last - first, 0)
    row = np.repeat(np.arange(campaigns.size), n_days)
    day = first[row] + np.arange(row.size) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    weekday = (day + 3) % 7
    per_day = campaigns.budget[row] / ((end - start)[row] / DAY)  # budgets span whole quarters
    amount = per_day * np.where(weekday >= 5, WEEKEND_SPEND, 1.05) * np.exp(
        rng.normal(0.0, 0.25, row.size))
    _, channel, _ = campaigns.layout()
    return {"date": day * DAY, "amount": np.round(amount, 2), "channel": channel[row],
            "campaign_id": row, "category": np.zeros(row.size, dtype=np.int64)}


def _monthly_costs(rng: np.random.Generator, window: Window, leads: int) -> Columns:
    """Per month: organic, partner and outbound costs, martech (no channel) and sales costs."""
    months = window.month_numbers()
    expected = expected_leads(window, leads, months)
    items = [(A.SOURCE[c], 0, 1, per_lead * A.LEAD_SHARE_BY_SOURCE[A.SOURCE[c]])
             for c, per_lead in A.CHANNEL_MONTHLY.items()]
    items += [(-1, 0, 1, A.MARTECH_PER_LEAD), (-1, 1, 1, A.SALES_TOOLS_PER_LEAD),
              (-1, 1, 25, A.SALARIES_PER_LEAD)]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("date", "amount", "channel",
                                                          "campaign_id", "category")}
    for channel, category, day, per_lead in items:
        date = month_start(months) + (day - 1) * DAY
        keep = (date >= window.start) & (date < window.cutoff)
        amount = expected * per_lead * np.exp(rng.normal(0.0, 0.08, months.size))
        parts["date"].append(date[keep])
        parts["amount"].append(np.round(amount[keep], 2))
        parts["channel"].append(np.full(keep.sum(), channel))
        parts["campaign_id"].append(np.full(keep.sum(), -1))
        parts["category"].append(np.full(keep.sum(), category))
    return {k: np.concatenate(v) for k, v in parts.items()}
