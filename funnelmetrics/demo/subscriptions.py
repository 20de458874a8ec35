"""Subscriptions and product engagement of the accounts that buy.

Every won deal and every self-serve 'paid' lead starts a subscription line. Month by month a
line may upgrade or downgrade (the row ends and a new row starts at the same instant with the new
MRR), or churn (the row ends, no successor); some churned lines come back months later as a new
row (reactivation). A share of lines bill on calendar months, so their changes fall at 00:00 on
the 1st. Engagement fades over the months before a churn, so churn risk can be detected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.people import account_ids
from funnelmetrics.demo.sink import Columns, ids, labels, lookup
from funnelmetrics.demo.timeline import DAY, MONTH, NEVER, month_of, month_start

MRR_ROUNDING = np.array([0.01, 1_000.0, 0.01, 0.01])  # by currency: cents, or IDR thousands
SLOT = 30 * DAY  # engagement is drawn per 30-day slot of each subscription row


@dataclass(frozen=True)
class Lines:
    """What was bought: one line per won deal or self-serve purchase."""

    account: np.ndarray
    start: np.ndarray
    mrr: np.ndarray
    currency: np.ndarray
    plan: np.ndarray

    @property
    def n(self) -> int:
        """Number of lines."""
        return int(self.start.size)

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        """One set of lines from several."""
        return Lines(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("account", "start", "mrr", "currency", "plan")))


@dataclass
class _State:
    """Mutable state of every line during the month-by-month simulation."""

    aligned: np.ndarray
    anchor: np.ndarray
    step: np.ndarray
    seg_start: np.ndarray
    seg_mrr: np.ndarray
    active: np.ndarray
    resume: np.ndarray

    def tick(self) -> np.ndarray:
        """Instant of each line's next monthly renewal (the 1st for calendar billing)."""
        calendar = month_start(month_of(self.anchor) + self.step)
        rolling = self.anchor + np.round(self.step * MONTH).astype(np.int64)
        return np.where(self.aligned, calendar, rolling)


@dataclass(frozen=True)
class SubRows:
    """Subscription rows: a line's life split at every change."""

    line: np.ndarray
    start: np.ndarray
    end: np.ndarray  # NEVER while active
    mrr: np.ndarray
    churned: np.ndarray  # ended with no successor at the same instant

    @property
    def n(self) -> int:
        """Number of subscription rows."""
        return int(self.start.size)


def simulate(rng: np.random.Generator, lines: Lines, cutoff: int) -> SubRows:
    """Run every line month by month up to the cutoff; loops over months, not lines."""
    n = lines.n
    state = _State(aligned=rng.random(n) < A.MONTH_ALIGNED_BILLING, anchor=lines.start.copy(),
                   step=np.ones(n, dtype=np.int64), seg_start=lines.start.copy(),
                   seg_mrr=lines.mrr.copy(), active=np.ones(n, dtype=bool),
                   resume=np.full(n, NEVER, dtype=np.int64))
    rows: list[tuple[np.ndarray, ...]] = []
    while True:
        tick = state.tick()
        due = np.flatnonzero(state.active & (tick < cutoff))
        back = np.flatnonzero(~state.active & (state.resume < cutoff))
        if due.size == 0 and back.size == 0:
            break
        rows.append(_renew(rng, lines, state, due, tick[due]))
        _reactivate(rng, lines, state, back)
    live = np.flatnonzero(state.active)
    rows.append((live, state.seg_start[live], np.full(live.size, NEVER), state.seg_mrr[live],
                 np.zeros(live.size, dtype=bool)))
    line, start, end, mrr, churned = (np.concatenate(c) for c in zip(*rows, strict=True))
    order = np.lexsort((start, line))
    return SubRows(line=line[order], start=start[order], end=end[order], mrr=mrr[order],
                   churned=churned[order])


def _renew(rng: np.random.Generator, lines: Lines, state: _State, idx: np.ndarray,
           tick: np.ndarray) -> tuple[np.ndarray, ...]:
    """One renewal of lines `idx`: churn, upgrade, downgrade or nothing; returns ended rows."""
    plan = lines.plan[idx]
    u = rng.random(idx.size)
    churn = u < A.MONTHLY_CHURN[plan]
    up = ~churn & (u < A.MONTHLY_CHURN[plan] + A.MONTHLY_UPGRADE[plan])
    down = ~churn & ~up & (u < A.MONTHLY_CHURN[plan] + A.MONTHLY_UPGRADE[plan]
                           + A.MONTHLY_DOWNGRADE[plan])
    ended = churn | up | down
    rows = (idx[ended], state.seg_start[idx[ended]], tick[ended], state.seg_mrr[idx[ended]],
            churn[ended])
    factor = np.where(up, rng.uniform(*A.UPGRADE_FACTOR, idx.size),
                      rng.uniform(*A.DOWNGRADE_FACTOR, idx.size))
    changed = idx[up | down]
    state.seg_mrr[changed] = round_mrr(state.seg_mrr[changed] * factor[up | down],
                                        lines.currency[changed])
    state.seg_start[changed] = tick[up | down]
    gone = idx[churn]
    state.active[gone] = False
    comes_back = rng.random(gone.size) < A.REACTIVATION_SHARE
    later = tick[churn] + rng.integers(*A.REACTIVATION_DAYS, gone.size) * DAY
    later = np.where(state.aligned[gone], month_start(month_of(later) + 1), later)
    state.resume[gone] = np.where(comes_back, later, NEVER)
    state.step[idx] += 1
    return rows


def _reactivate(rng: np.random.Generator, lines: Lines, state: _State, idx: np.ndarray) -> None:
    """Churned lines that come back start a new row at their resume instant."""
    state.seg_start[idx] = state.resume[idx]
    state.anchor[idx] = state.resume[idx]
    state.seg_mrr[idx] = round_mrr(lines.mrr[idx] * rng.uniform(0.7, 1.2, idx.size),
                                    lines.currency[idx])
    state.step[idx] = 1
    state.active[idx] = True
    state.resume[idx] = NEVER


def round_mrr(mrr: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """MRR rounded to cents (IDR: to thousands), at least one unit of rounding."""
    step = MRR_ROUNDING[currency]
    return np.round(np.maximum(np.round(mrr / step), 1) * step, 2)


def subscriptions_table(rows: SubRows, lines: Lines, first_id: int, n_accounts: int,
                        width: int) -> Columns:
    """The subscriptions table (SPEC §2)."""
    return {
        "subscription_id": ids("S", first_id + np.arange(rows.n) + 1, width),
        "account_id": account_ids(lines.account[rows.line], n_accounts), "mrr": rows.mrr,
        "started_at": rows.start, "ended_at": rows.end,
        "plan": labels(A.PLANS, lines.plan[rows.line]),
        "currency": labels(A.CURRENCIES, lines.currency[rows.line]),
    }


def engagement_events(rng: np.random.Generator, rows: SubRows, lines: Lines, cutoff: int,
                      n_accounts: int) -> Columns:
    """Product usage of subscribed accounts, fading in the months before a churn."""
    end = np.minimum(rows.end, cutoff)
    n_slots = np.maximum(-(-(end - rows.start) // SLOT), 0)
    row = np.repeat(np.arange(rows.n), n_slots)
    k = np.arange(row.size) - np.repeat(np.cumsum(n_slots) - n_slots, n_slots)
    begin = rows.start[row] + k * SLOT
    length = np.minimum(SLOT, end[row] - begin)
    line = rows.line[row]
    level = np.exp(rng.normal(0.0, A.ENGAGEMENT_SIGMA, lines.n))
    months_left = (end[row] - begin - length / 2) / MONTH
    fade = np.where(rows.churned[row], np.clip(0.2 + 0.27 * months_left, 0.2, 1.0), 1.0)
    rate = A.EVENTS_PER_MONTH[lines.plan[line]] * level[line] * fade * length / SLOT
    count = np.minimum(rng.poisson(rate), A.EVENTS_CAP_PER_MONTH)
    slot = np.repeat(np.arange(row.size), count)
    at = begin[slot] + (rng.random(slot.size) * length[slot]).astype(np.int64)
    event = rng.choice(len(A.EVENTS), slot.size, p=A.EVENT_MIX)
    account = account_ids(lines.account, n_accounts)
    return {"account_id": lookup(account, line[slot]), "occurred_at": at,
            "event": labels(A.EVENTS, event), "weight": A.EVENT_WEIGHT[event]}


def self_serve_lines(rng: np.random.Generator, account: np.ndarray, start: np.ndarray) -> Lines:
    """Small USD subscriptions of self-serve leads that started paying."""
    mrr = np.round(A.PRODUCT_MRR * np.exp(rng.normal(0.0, A.PRODUCT_MRR_SIGMA, start.size)))
    return Lines(account=account, start=start, mrr=np.maximum(mrr, 19.0),
                 currency=np.zeros(start.size, dtype=np.int64),
                 plan=np.zeros(start.size, dtype=np.int64))
