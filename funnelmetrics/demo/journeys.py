"""Funnel journeys of a chunk of leads: when each lead reached each stage, and its stage events.

Sales-led leads walk lead → mql → sql → opportunity (the won step is decided with the deal);
self-serve leads walk signup → activated → trial → paid. A lead's `created_at` is its first
stage, so most leads get no event for it. Some events are skipped on purpose (SDR-sourced leads
jump straight to sql, some opportunities open without an sql event), some MQLs are re-scored (a
second mql event), and journeys still running at the cutoff simply stop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.leads import LeadChunk
from funnelmetrics.demo.timeline import DAY, NEVER, Window, happened, lognormal_secs

Events = tuple[np.ndarray, np.ndarray, np.ndarray]  # (lead index in chunk, stage code, instant)


@dataclass(frozen=True)
class SalesPaths:
    """Reach instants (NEVER = not reached before the cutoff) of the sales-led leads."""

    lead: np.ndarray  # index in the chunk
    mql: np.ndarray
    sql: np.ndarray
    opportunity: np.ndarray
    emit_mql: np.ndarray
    emit_sql: np.ndarray


def sales_paths(rng: np.random.Generator, chunk: LeadChunk, window: Window) -> SalesPaths:
    """Draw how far each sales-led lead gets, and when."""
    lead = np.flatnonzero(~chunk.product)
    n, cutoff = lead.size, window.cutoff
    source, segment, t0 = chunk.source[lead], chunk.segment[lead], chunk.created[lead]
    years = (t0 - window.start) / (365.25 * DAY)
    p_mql = A.P_MQL[source] * A.P_MQL_SEGMENT[segment] * (1 + A.TREND_PER_YEAR * years)
    t_mql = t0 + lognormal_secs(rng, *A.DELAY_DAYS["mql"], n)
    late = (source == A.BOTTLENECK_SOURCE) & (t_mql >= cutoff - A.BOTTLENECK_DAYS * DAY)
    p_sql = A.P_SQL[source] * np.where(late, A.BOTTLENECK_FACTOR, 1.0)
    u = rng.random((3, n))
    reach_mql = u[0] < p_mql
    reach_sql = reach_mql & (u[1] < p_sql)
    reach_opp = reach_sql & (u[2] < A.P_OPPORTUNITY[segment])
    t_sql = t_mql + lognormal_secs(rng, *A.DELAY_DAYS["sql"], n)
    t_opp = t_sql + lognormal_secs(rng, *A.DELAY_DAYS["opportunity"], n)
    skip = rng.random((2, n))
    return SalesPaths(
        lead=lead,
        mql=happened(np.where(reach_mql, t_mql, NEVER), cutoff),
        sql=happened(np.where(reach_sql, t_sql, NEVER), cutoff),
        opportunity=happened(np.where(reach_opp, t_opp, NEVER), cutoff),
        emit_mql=~(reach_sql & (skip[0] < A.SKIP_MQL[source])),
        emit_sql=~(reach_opp & (skip[1] < A.SKIP_SQL)),
    )


def sales_events(rng: np.random.Generator, chunk: LeadChunk, paths: SalesPaths,
                 cutoff: int) -> Events:
    """Stage events lead, mql and sql (opportunity and won come with the deals)."""
    lead = paths.lead
    explicit = rng.random(lead.size) < A.LEAD_EVENT_SHARE
    mql = (paths.mql < cutoff) & paths.emit_mql
    again = mql & (rng.random(lead.size) < A.REQUALIFY_SHARE)
    t_again = paths.mql[again] + lognormal_secs(rng, *A.DELAY_DAYS["requalify"], int(again.sum()))
    again_ok = t_again < cutoff
    sql = (paths.sql < cutoff) & paths.emit_sql
    parts = [
        (lead[explicit], A.STAGE["lead"], chunk.created[lead[explicit]]),
        (lead[mql], A.STAGE["mql"], paths.mql[mql]),
        (lead[again][again_ok], A.STAGE["mql"], t_again[again_ok]),
        (lead[sql], A.STAGE["sql"], paths.sql[sql]),
    ]
    return combine(parts)


def product_events(rng: np.random.Generator, chunk: LeadChunk,
                   cutoff: int) -> tuple[Events, tuple[np.ndarray, np.ndarray]]:
    """Stage events of self-serve leads, and (lead, instant) of those that started paying."""
    lead = np.flatnonzero(chunk.product)
    n = lead.size
    t0 = chunk.created[lead]
    u = rng.random((5, n))
    activated = u[0] < A.P_ACTIVATED
    trial = activated & (u[1] < A.P_TRIAL)
    paid_trial = trial & (u[2] < A.P_PAID_AFTER_TRIAL)
    paid_direct = activated & ~trial & (u[3] < A.P_PAID_DIRECT)  # bought without a trial
    t_act = t0 + lognormal_secs(rng, *A.PRODUCT_DELAY_DAYS["activated"], n)
    t_trial = t_act + lognormal_secs(rng, *A.PRODUCT_DELAY_DAYS["trial"], n)
    t_paid = np.where(paid_direct, t_act + lognormal_secs(rng, *A.PRODUCT_DELAY_DAYS["direct"], n),
                      t_trial + A.TRIAL_DAYS * DAY
                      + lognormal_secs(rng, *A.PRODUCT_DELAY_DAYS["paid"], n))
    signup = u[4] < A.SIGNUP_EVENT_SHARE
    act_ok = activated & (t_act < cutoff)
    trial_ok = trial & (t_trial < cutoff)
    paid_ok = (paid_trial | paid_direct) & (t_paid < cutoff)
    events = combine([
        (lead[signup], A.STAGE["signup"], t0[signup]),
        (lead[act_ok], A.STAGE["activated"], t_act[act_ok]),
        (lead[trial_ok], A.STAGE["trial"], t_trial[trial_ok]),
        (lead[paid_ok], A.STAGE["paid"], t_paid[paid_ok]),
    ])
    return events, (lead[paid_ok], t_paid[paid_ok])


def combine(parts: list[tuple[np.ndarray, int | np.ndarray, np.ndarray]]) -> Events:
    """Concatenate event parts into one (lead, stage, instant) triple."""
    lead = np.concatenate([p[0] for p in parts]).astype(np.int64)
    stage = np.concatenate([np.broadcast_to(np.asarray(p[1], dtype=np.int8), p[0].shape)
                            for p in parts])
    at = np.concatenate([np.asarray(p[2], dtype=np.int64) for p in parts])
    return lead, stage, at
