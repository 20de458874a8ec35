"""The fixed part of the demo world, drawn once: window, lead arrivals, accounts, reps, campaigns.

Everything per lead is then drawn chunk by chunk from streams keyed by (seed, chunk), so the
output depends only on (leads, seed, months, end) and never on memory or chunk timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from funnelmetrics.demo.fx import Fx, draw_fx
from funnelmetrics.demo.marketing import Campaigns, draw_campaigns
from funnelmetrics.demo.people import (
    TEAMS,
    Accounts,
    Reps,
    assign_owners,
    draw_accounts,
    draw_reps,
)
from funnelmetrics.demo.timeline import Window, arrival_times

# Stream keys: one independent random stream per purpose.
ACCOUNTS, REPS, OWNERS, ARRIVALS, SHUFFLE, CAMPAIGNS, FX, SPEND, PLANS, CHUNK = range(1, 11)


def stream(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible random stream for (seed, keys)."""
    return np.random.default_rng([seed, *keys])


@dataclass(frozen=True)
class World:
    """What every chunk of leads shares."""

    seed: int
    leads: int
    window: Window
    created: np.ndarray  # creation instant of every lead, ascending = lead id order
    lead_account: np.ndarray  # account index of every lead
    accounts: Accounts
    account_created: np.ndarray  # the first lead's creation instant
    owner: np.ndarray  # rep index owning each account
    reps: Reps
    campaigns: Campaigns
    fx: Fx

    @property
    def id_width(self) -> int:
        """Digits in lead, opportunity and subscription ids (7, more for huge data sets)."""
        return max(7, len(str(self.leads)))


def build_world(*, leads: int, seed: int, window: Window) -> World:
    """Draw the shared part of the world."""
    accounts = draw_accounts(stream(seed, ACCOUNTS), leads)
    team_load = np.bincount(accounts.team, weights=accounts.leads, minlength=len(TEAMS))
    reps = draw_reps(stream(seed, REPS), leads, team_load + 1.0)
    owner = assign_owners(stream(seed, OWNERS), accounts, reps)
    created = arrival_times(stream(seed, ARRIVALS), window, leads)
    lead_account = stream(seed, SHUFFLE).permutation(
        np.repeat(np.arange(accounts.size, dtype=np.int32), accounts.leads))
    first_lead = np.full(accounts.size, leads, dtype=np.int64)
    np.minimum.at(first_lead, lead_account, np.arange(leads, dtype=np.int64))
    return World(seed=seed, leads=leads, window=window, created=created,
                 lead_account=lead_account, accounts=accounts,
                 account_created=created[first_lead], owner=owner, reps=reps,
                 campaigns=draw_campaigns(stream(seed, CAMPAIGNS), window, leads),
                 fx=draw_fx(stream(seed, FX), window))
