"""One chunk of leads: who they are, where they came from and who owns them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.marketing import campaign_ids
from funnelmetrics.demo.people import account_ids, rep_ids
from funnelmetrics.demo.sink import Columns, ids, labels, lookup
from funnelmetrics.demo.world import World


@dataclass(frozen=True)
class LeadChunk:
    """Leads `first` … `first + n - 1` (0-based) with their attributes as codes."""

    first: int
    width: int  # digits of lead ids
    created: np.ndarray
    account: np.ndarray
    segment: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    product: np.ndarray  # lead_type == 'product' (self-serve sign-up)
    source: np.ndarray
    campaign: np.ndarray  # campaign index or -1
    rep: np.ndarray  # rep index or -1 (self-serve leads have no rep)
    utm_tracked: np.ndarray

    @property
    def n(self) -> int:
        """Number of leads in the chunk."""
        return int(self.created.size)

    @cached_property
    def ids(self) -> pa.Array:
        """Lead ids of the chunk (L0000001 …), stable across chunks."""
        return ids("L", np.arange(self.first + 1, self.first + self.n + 1), self.width)

    def lead_ids(self, index: np.ndarray) -> pa.Array:
        """Lead ids of leads given by their index in the chunk."""
        return lookup(self.ids, index)


def draw_leads(rng: np.random.Generator, world: World, first: int, stop: int) -> LeadChunk:
    """Attributes of leads `first` … `stop - 1`."""
    account = world.lead_account[first:stop].astype(np.int64)
    segment = world.accounts.segment[account]
    product = rng.random(account.size) < A.PRODUCT_SHARE[segment]
    source = np.empty(account.size, dtype=np.int8)
    for seg in range(len(A.SEGMENTS)):
        rows = np.flatnonzero((segment == seg) & ~product)
        source[rows] = rng.choice(len(A.SOURCES), rows.size, p=A.SOURCE_MIX_SALES[seg])
    rows = np.flatnonzero(product)
    source[rows] = rng.choice(len(A.SOURCES), rows.size, p=A.SOURCE_MIX_PRODUCT)
    created = world.created[first:stop]
    campaign = world.campaigns.pick(rng, source.astype(np.int64), created)
    campaign[rng.random(account.size) >= A.CAMPAIGN_TAGGED] = -1
    return LeadChunk(first=first, width=world.id_width, created=created, account=account, segment=segment,
                     country=world.accounts.country[account],
                     industry=world.accounts.industry[account], product=product, source=source,
                     campaign=campaign, rep=np.where(product, -1, world.owner[account]),
                     utm_tracked=rng.random(account.size) >= A.UTM_UNTRACKED)


def leads_table(chunk: LeadChunk, world: World) -> Columns:
    """The leads table (SPEC §2) plus the extra attributes company_size and utm_medium."""
    employees = world.accounts.employees[chunk.account]
    return {
        "lead_id": chunk.ids, "created_at": chunk.created,
        "source": labels(A.SOURCES, chunk.source), "campaign_id": campaign_ids(chunk.campaign),
        "rep_id": rep_ids(chunk.rep.astype(np.int64)),
        "account_id": account_ids(chunk.account, world.accounts.size),
        "industry": labels(A.INDUSTRIES, chunk.industry),
        "country": labels(A.COUNTRIES, chunk.country),
        "segment": labels(A.SEGMENTS, chunk.segment),
        "lead_type": labels(A.LEAD_TYPES, chunk.product.astype(np.int64)),
        "company_size": labels(A.COMPANY_SIZES, np.searchsorted(
            A.COMPANY_SIZE_EDGES, employees, side="right")),
        "utm_medium": labels(A.UTM_MEDIUM, np.where(chunk.utm_tracked, chunk.source, -1)),
    }
