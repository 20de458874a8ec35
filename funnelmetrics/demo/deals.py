"""Opportunities of a chunk of leads, their deal-stage history and the won/opportunity events.

One opportunity per lead that reached 'opportunity' (a few leads open a second one months later).
Outcome and timing: win probability by segment × source × industry × rep; lognormal time to
close by segment, lost deals with a longer tail; some wins pulled into the last week of the
quarter. Deals not closed by the cutoff are open, with their current deal stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.journeys import Events, SalesPaths, combine
from funnelmetrics.demo.leads import LeadChunk
from funnelmetrics.demo.people import account_ids, rep_ids
from funnelmetrics.demo.sink import Columns, ids, labels
from funnelmetrics.demo.subscriptions import Lines, round_mrr
from funnelmetrics.demo.timeline import DAY, NEVER, lognormal_secs, quarter_end
from funnelmetrics.demo.world import World

OPEN, WON, LOST = 0, 1, 2
CLOSED = len(A.DEAL_STAGES) - 1


@dataclass(frozen=True)
class Deals:
    """Opportunities as arrays; `close` is when the deal is (or will be) won or lost."""

    lead: np.ndarray  # index in the chunk
    created: np.ndarray
    close: np.ndarray
    won: np.ndarray  # the deal's outcome, whether or not it happened yet
    last_stage: np.ndarray  # furthest deal stage before closing (lost deals stop early)
    stage_at: np.ndarray  # (n, 3) instants of demo, proposal, negotiation; NEVER = skipped
    amount_usd: np.ndarray
    months: np.ndarray  # contract months
    currency: np.ndarray
    amount: np.ndarray  # in `currency`
    expected_close: np.ndarray
    lost_reason: np.ndarray

    @property
    def n(self) -> int:
        """Number of opportunities."""
        return int(self.lead.size)

    def status(self, cutoff: int) -> np.ndarray:
        """OPEN, WON or LOST as seen at the cutoff."""
        return np.where(self.close >= cutoff, OPEN, np.where(self.won, WON, LOST))


def draw_deals(rng: np.random.Generator, chunk: LeadChunk, paths: SalesPaths,
               world: World) -> Deals:
    """Opportunities of the leads that reached 'opportunity' before the cutoff."""
    cutoff = world.window.cutoff
    has = paths.opportunity < cutoff
    lead, created = paths.lead[has], paths.opportunity[has]
    again = rng.random(lead.size) < A.SECOND_OPPORTUNITY_SHARE
    later = created[again] + rng.integers(*A.SECOND_OPPORTUNITY_DAYS, int(again.sum())) * DAY
    lead = np.concatenate([lead, lead[again][later < cutoff]])
    created = np.concatenate([created, later[later < cutoff]])
    n = lead.size
    segment, source = chunk.segment[lead], chunk.source[lead]
    p_win = (A.P_WIN[segment] * A.WIN_SOURCE[source] * A.WIN_INDUSTRY[chunk.industry[lead]]
             * world.reps.skill[chunk.rep[lead]])
    won = rng.random(n) < np.minimum(p_win, 0.9)
    duration = np.where(won, lognormal_secs(rng, A.CLOSE_DAYS[segment], A.CLOSE_SIGMA, n),
                        lognormal_secs(rng, A.CLOSE_DAYS[segment] * A.LOST_SPEED, A.LOST_SIGMA,
                                       n))
    close = _quarter_end_push(rng, created + np.minimum(duration, A.MAX_DEAL_DAYS * DAY), won)
    last_stage = np.where(won, CLOSED - 1, rng.choice(CLOSED, n, p=A.LOST_AT_STAGE))
    amount_usd, months = _amounts(rng, segment)
    currency = np.where(rng.random(n) < A.LOCAL_CURRENCY_SHARE[chunk.country[lead]],
                        A.LOCAL_CURRENCY[chunk.country[lead]], 0)
    rounding = A.CURRENCY_ROUNDING[currency]
    local = amount_usd / world.fx.rate(currency, created)
    expected = created + np.minimum((close - created) * np.exp(
        rng.normal(0, A.EXPECTED_CLOSE_SIGMA, n)), A.MAX_EXPECTED_CLOSE_DAYS * DAY)
    return Deals(lead=lead, created=created, close=close, won=won, last_stage=last_stage,
                 stage_at=_stage_times(rng, created, close, last_stage, segment),
                 amount_usd=amount_usd, months=months, currency=currency,
                 amount=np.maximum(np.round(local / rounding), 1) * rounding,
                 expected_close=(expected.astype(np.int64) // DAY) * DAY,
                 lost_reason=np.where(won, -1, rng.choice(len(A.LOST_REASONS), n, p=A.LOST_MIX)))


def _quarter_end_push(rng: np.random.Generator, close: np.ndarray, won: np.ndarray) -> np.ndarray:
    """Reps pull some wins into the last days of the quarter."""
    q_end = quarter_end(close)
    push = won & (q_end - close < A.QUARTER_END_REACH_DAYS * DAY) & (
        rng.random(close.size) < A.QUARTER_END_PUSH)
    pushed = q_end - rng.integers(1, 6 * DAY, close.size)
    return np.where(push & (pushed > close), pushed, close)


def _amounts(rng: np.random.Generator, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deal value (USD, rounded to 10) and contract length, by segment."""
    annual = A.ANNUAL_VALUE[segment] * np.exp(rng.normal(0.0, 1.0, segment.size)
                                              * A.ANNUAL_SIGMA[segment])
    months = np.empty(segment.size, dtype=np.int64)
    for seg in range(len(A.SEGMENTS)):
        rows = np.flatnonzero(segment == seg)
        months[rows] = rng.choice(A.CONTRACT_MONTHS, rows.size, p=A.CONTRACT_MIX[seg])
    return np.maximum(np.round(annual * months / 12, -1), 10.0), months


def _stage_times(rng: np.random.Generator, created: np.ndarray, close: np.ndarray,
                 last_stage: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Instants of demo, proposal and negotiation between creation and close (NEVER = none)."""
    n = created.size
    fraction = np.sort(rng.uniform(0.05, 0.95, (n, 3)), axis=1)
    at = created[:, None] + (fraction * (close - created)[:, None]).astype(np.int64)
    reached = np.arange(1, 4)[None, :] <= last_stage[:, None]
    skip = np.zeros((n, 3), dtype=bool)
    skip[:, 0] = rng.random(n) < A.SKIP_DEMO
    skip[:, 2] = (segment == 0) & (rng.random(n) < A.SKIP_NEGOTIATION_SMB)
    skip[:, 2] &= last_stage == CLOSED - 1  # small deals often sign straight after a proposal
    return np.where(reached & ~skip, at, NEVER)


def current_stage(deals: Deals, cutoff: int) -> np.ndarray:
    """Deal stage at the cutoff: closed, or the furthest stage reached so far."""
    reached = deals.stage_at < cutoff
    furthest = np.where(reached.any(axis=1), 3 - np.argmax(reached[:, ::-1], axis=1), 0)
    return np.where(deals.close < cutoff, CLOSED, furthest)


def opportunities_table(deals: Deals, chunk: LeadChunk, world: World, first_id: int) -> Columns:
    """The opportunities table (SPEC §2)."""
    cutoff = world.window.cutoff
    status = deals.status(cutoff)
    stage = current_stage(deals, cutoff)
    probability = np.where(status == WON, 1.0, np.where(
        status == LOST, 0.0, A.OPEN_PROBABILITY[np.minimum(stage, CLOSED - 1)]))
    account = chunk.account[deals.lead]
    return {
        "opportunity_id": opportunity_ids(first_id + np.arange(deals.n), world.id_width),
        "created_at": deals.created, "status": labels(("open", "won", "lost"), status),
        "amount": deals.amount,
        "lead_id": chunk.lead_ids(deals.lead),
        "account_id": account_ids(account, world.accounts.size),
        "rep_id": rep_ids(chunk.rep[deals.lead].astype(np.int64)),
        "closed_at": np.where(status == OPEN, NEVER, deals.close),
        "expected_close_at": deals.expected_close, "deal_stage": labels(A.DEAL_STAGES, stage),
        "probability": probability, "contract_months": deals.months.astype(np.float64),
        "lost_reason": labels(A.LOST_REASONS, np.where(status == LOST, deals.lost_reason, -1)),
        "currency": labels(A.CURRENCIES, deals.currency),
    }


def opportunity_ids(index: np.ndarray, width: int) -> pa.Array:
    """Opportunity ids (O0000001 …) from 0-based global indexes."""
    return ids("O", np.asarray(index) + 1, width)


def deal_stage_events(deals: Deals, first_id: int, cutoff: int, width: int) -> Columns:
    """deal_stage_events: discovery at creation, the stages reached, closed at close."""
    n = deals.n
    opp = np.arange(n)
    stages = [np.zeros(n, dtype=np.int64)] + [np.full(n, s) for s in (1, 2, 3)] + [
        np.full(n, CLOSED)]
    times = [deals.created, *deals.stage_at.T, deals.close]
    opp_all = np.concatenate([opp] * len(times))
    stage_all = np.concatenate(stages)
    at_all = np.concatenate(times)
    keep = at_all < cutoff
    order = np.lexsort((at_all[keep], opp_all[keep]))
    return {"opportunity_id": opportunity_ids(first_id + opp_all[keep][order], width),
            "deal_stage": labels(A.DEAL_STAGES, stage_all[keep][order]),
            "occurred_at": at_all[keep][order]}


def deal_events(deals: Deals, cutoff: int) -> Events:
    """Stage events 'opportunity' (every deal) and 'won' (deals won before the cutoff)."""
    won = deals.won & (deals.close < cutoff)
    return combine([(deals.lead, A.STAGE["opportunity"], deals.created),
                    (deals.lead[won], A.STAGE["won"], deals.close[won])])



def won_lines(deals: Deals, chunk: LeadChunk, cutoff: int) -> Lines:
    """Subscription lines of the deals won before the cutoff: MRR = amount / contract months."""
    won = np.flatnonzero(deals.won & (deals.close < cutoff))
    currency = deals.currency[won]
    mrr = round_mrr(deals.amount[won] / deals.months[won], currency)
    return Lines(account=chunk.account[deals.lead[won]], start=deals.close[won], mrr=mrr,
                 currency=currency, plan=1 + chunk.segment[deals.lead[won]].astype(np.int64))
