"""Marketing touchpoints of a chunk of leads, for attribution (SPEC §4).

1–6 touches per lead (more for leads that convert), from a few days to weeks before creation up
to the opportunity (or three weeks after creation); the first touch is usually the lead's
source; inbound leads often have the form fill itself as a touch at `created_at`. Some touches
share an instant with the previous one on another channel (ties); some leads, mostly outbound
and referral, have no touch at all.
"""

from __future__ import annotations

import numpy as np

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.journeys import SalesPaths
from funnelmetrics.demo.leads import LeadChunk
from funnelmetrics.demo.marketing import campaign_ids
from funnelmetrics.demo.sink import Columns, labels
from funnelmetrics.demo.timeline import DAY, NEVER, lognormal_secs
from funnelmetrics.demo.world import World


def _touch_counts(rng: np.random.Generator, chunk: LeadChunk, engaged: np.ndarray) -> np.ndarray:
    """Touches per lead: 0 for some, else 1 + Binomial(5, p) with p higher for engaged leads."""
    count = 1 + rng.binomial(5, np.where(engaged, 0.5, 0.38))
    return np.where(rng.random(chunk.n) < A.NO_TOUCH[chunk.source], 0, count)


def _horizon(chunk: LeadChunk, paths: SalesPaths, cutoff: int) -> np.ndarray:
    """Last instant a lead's touches may have: its opportunity, or three weeks after creation."""
    horizon = chunk.created + A.TOUCH_AFTER_DAYS * DAY
    opp = np.full(chunk.n, NEVER)
    opp[paths.lead] = paths.opportunity
    horizon = np.where(opp < cutoff, opp, horizon)
    return np.minimum(horizon, cutoff - 1)


def touchpoints(rng: np.random.Generator, chunk: LeadChunk, paths: SalesPaths,
                world: World) -> Columns:
    """The touchpoints table (SPEC §2) for the leads of one chunk."""
    cutoff = world.window.cutoff
    engaged = np.zeros(chunk.n, dtype=bool)
    engaged[paths.lead] = paths.mql < cutoff
    count = _touch_counts(rng, chunk, engaged)
    lead = np.repeat(np.arange(chunk.n), count)
    k = np.arange(lead.size) - np.repeat(np.cumsum(count) - count, count)
    last = k == count[lead] - 1
    lead_time = np.minimum(lognormal_secs(rng, A.TOUCH_LEAD_DAYS, A.TOUCH_LEAD_SIGMA, chunk.n),
                           A.TOUCH_LEAD_MAX_DAYS * DAY)
    first_time = chunk.created - lead_time
    has_form = (chunk.source != A.SOURCE["outbound"]) & (rng.random(chunk.n) < A.FORM_TOUCH_SHARE)
    form = has_form[lead] & last
    span = _horizon(chunk, paths, cutoff) - first_time
    at = np.where(k == 0, first_time[lead],
                  first_time[lead] + (rng.random(lead.size) * span[lead]).astype(np.int64))
    at = np.where(form, chunk.created[lead], at)
    own = rng.random(lead.size) < np.where(k == 0, A.FIRST_TOUCH_IS_SOURCE,
                                           A.OTHER_TOUCH_IS_SOURCE)
    channel = np.where(own | form, chunk.source[lead],
                       rng.choice(len(A.SOURCES), lead.size, p=A.CHANNEL_MIX))
    lead, at, channel, form = _with_ties(rng, lead, at, channel, form)
    return _columns(rng, chunk, world, lead, at, channel, form)


def _with_ties(rng: np.random.Generator, lead: np.ndarray, at: np.ndarray, channel: np.ndarray,
               form: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort by (lead, instant), copy some instants onto the next touch, drop duplicate keys."""
    order = _order(lead, at, channel)
    lead, at, channel, form = lead[order], at[order], channel[order], form[order]
    tie = np.zeros(lead.size, dtype=bool)
    tie[1:] = (lead[1:] == lead[:-1]) & ~form[1:] & (rng.random(lead.size - 1) < A.TIE_SHARE)
    prev = np.flatnonzero(tie) - 1
    at[tie] = at[prev]
    clash = tie & (channel == np.roll(channel, 1))
    channel[clash] = (channel[clash] + rng.integers(1, len(A.SOURCES), int(clash.sum()))) % len(
        A.SOURCES)
    order = _order(lead, at, channel)
    lead, at, channel, form = lead[order], at[order], channel[order], form[order]
    dup = np.zeros(lead.size, dtype=bool)
    dup[1:] = (lead[1:] == lead[:-1]) & (at[1:] == at[:-1]) & (channel[1:] == channel[:-1])
    return lead[~dup], at[~dup], channel[~dup], form[~dup]


def _order(lead: np.ndarray, at: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Order by (lead, instant, channel) through one packed int64 key (faster than lexsort)."""
    if lead.size == 0:
        return np.zeros(0, dtype=np.int64)
    span = at - at.min()  # < 2**31 s (68 years); leads of a chunk < 2**29
    return np.argsort((lead.astype(np.int64) << 34) | (span << 3) | channel, kind="stable")


def _columns(rng: np.random.Generator, chunk: LeadChunk, world: World, lead: np.ndarray,
             at: np.ndarray, channel: np.ndarray, form: np.ndarray) -> Columns:
    """Campaign and touch type for each touch, then the table columns."""
    channel = channel.astype(np.int64)
    campaign = world.campaigns.pick(rng, channel, at)
    campaign[rng.random(lead.size) >= A.CAMPAIGN_TAGGED] = -1
    own = form & (channel == chunk.source[lead])
    campaign = np.where(own, chunk.campaign[lead], campaign)
    cumulative = np.cumsum(A.TOUCH_MIX, axis=1)
    kind = (rng.random(lead.size)[:, None] > cumulative[channel]).sum(axis=1)
    kind = np.where(form, 3, np.minimum(kind, 3))
    return {"lead_id": chunk.lead_ids(lead), "occurred_at": at,
            "channel": labels(A.SOURCES, channel), "campaign_id": campaign_ids(campaign),
            "touch_type": labels(A.TOUCH_TYPES, kind)}
