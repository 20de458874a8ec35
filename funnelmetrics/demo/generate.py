"""Generate the demo data set: every table of SPEC §2 as one Parquet (or CSV) file.

A B2B SaaS company selling in Indonesia, Malaysia and Singapore: leads with seasonality and
growth, a sales-led and a product-led funnel with skipped stages and journeys still in progress,
opportunities in USD, IDR and MYR, subscriptions with expansion, contraction, churn and
reactivation, touchpoints, spend, quotas, targets and an eNPS pulse. Fully vectorised and written
in chunks of leads (10 million leads: ~1.5 min, ~1 GiB peak); the output depends only on
(leads, seed, months, end).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.deals import (
    deal_events,
    deal_stage_events,
    draw_deals,
    opportunities_table,
    won_lines,
)
from funnelmetrics.demo.journeys import Events, product_events, sales_events, sales_paths
from funnelmetrics.demo.leads import LeadChunk, draw_leads, leads_table
from funnelmetrics.demo.marketing import campaigns_table, spend_table
from funnelmetrics.demo.people import accounts_table, reps_table
from funnelmetrics.demo.plans import Tally, kpi_targets_table, quotas_table, survey_table
from funnelmetrics.demo.sink import FORMATS, Columns, TableSink, labels
from funnelmetrics.demo.subscriptions import (
    Lines,
    engagement_events,
    self_serve_lines,
    simulate,
    subscriptions_table,
)
from funnelmetrics.demo.timeline import Window
from funnelmetrics.demo.touches import touchpoints
from funnelmetrics.demo.world import CHUNK, PLANS, SPEND, World, build_world, stream
from funnelmetrics.schema import TABLES, Kind

CHUNK_LEADS = 250_000  # part of the output's identity: changing it changes the data
LEAD_EXTRAS = {"company_size": Kind.TEXT, "utm_medium": Kind.TEXT}


@dataclass
class _Counters:
    """Running id numbers, so ids stay unique and stable across chunks."""

    opportunities: int = 0
    subscriptions: int = 0


def generate(out_dir: Path, *, leads: int = 50_000, seed: int = 7, months: int = 24,
             end: dt.date | None = None, file_format: str = "parquet") -> dict[str, Path]:
    """Write one file per table of SPEC §2 into `out_dir`; returns table → path.

    The data covers the `months` whole months before the month of `end` plus that month up to
    `end` 00:00 UTC (`end` defaults to today, UTC). CSV files carry ISO 8601 instants ending in
    'Z' and dates as YYYY-MM-DD; Parquet files carry naive UTC timestamps.
    """
    _check(leads, months, file_format)
    end = end or dt.datetime.now(dt.UTC).date()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(leads=leads, seed=seed, window=Window.of(end, months))
    sinks = {name: TableSink(out, name, file_format, LEAD_EXTRAS if name == "leads" else None)
             for name in TABLES}
    try:
        tally, counters = Tally.empty(world), _Counters()
        for k, first in enumerate(range(0, leads, CHUNK_LEADS)):
            _write_chunk(sinks, world, tally, counters, k, first, min(leads, first + CHUNK_LEADS))
        _write_shared(sinks, world, tally)
    finally:
        for sink in sinks.values():
            sink.close()
    return {name: sink.path for name, sink in sinks.items()}


def _check(leads: int, months: int, file_format: str) -> None:
    """Reject arguments the generator cannot honour."""
    if leads < 1:
        raise ValueError(f"leads must be at least 1, not {leads}")
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FORMATS)}, not {file_format!r}")


def _write_chunk(sinks: dict[str, TableSink], world: World, tally: Tally, counters: _Counters,
                 k: int, first: int, stop: int) -> None:
    """Draw and write everything that hangs off leads `first` … `stop - 1`."""
    rng = stream(world.seed, CHUNK, k)
    cutoff = world.window.cutoff
    chunk = draw_leads(rng, world, first, stop)
    sinks["leads"].write(leads_table(chunk, world))
    paths = sales_paths(rng, chunk, world.window)
    deals = draw_deals(rng, chunk, paths, world)
    product, (paid_lead, paid_at) = product_events(rng, chunk, cutoff)
    events = _merge(sales_events(rng, chunk, paths, cutoff), deal_events(deals, cutoff), product)
    sinks["stage_events"].write(_stage_events_table(events, chunk))
    sinks["opportunities"].write(opportunities_table(deals, chunk, world, counters.opportunities))
    sinks["deal_stage_events"].write(deal_stage_events(deals, counters.opportunities, cutoff,
                                                       world.id_width))
    counters.opportunities += deals.n
    won = deals.won & (deals.close < cutoff)
    tally.add_wins(chunk.rep[deals.lead[won]], deals.close[won], deals.amount_usd[won])
    lines = Lines.concat([won_lines(deals, chunk, cutoff),
                          self_serve_lines(rng, chunk.account[paid_lead], paid_at)])
    rows = simulate(rng, lines, cutoff)
    sinks["subscriptions"].write(subscriptions_table(
        rows, lines, counters.subscriptions, world.accounts.size, world.id_width))
    counters.subscriptions += rows.n
    tally.add_mrr(rows.start, rows.end,
                  rows.mrr * world.fx.rate(lines.currency[rows.line], rows.start))
    sinks["engagement_events"].write(engagement_events(rng, rows, lines, cutoff,
                                                       world.accounts.size))
    sinks["touchpoints"].write(touchpoints(rng, chunk, paths, world))


def _merge(*parts: Events) -> Events:
    """One (lead, stage, instant) triple from several."""
    lead, stage, at = (np.concatenate(c) for c in zip(*parts, strict=True))
    return lead, stage, at


def _stage_events_table(events: Events, chunk: LeadChunk) -> Columns:
    """stage_events ordered by lead and time, without duplicate keys."""
    lead, stage, at = events
    order = np.lexsort((stage, at, lead))
    lead, stage, at = lead[order], stage[order], at[order]
    dup = np.zeros(lead.size, dtype=bool)
    dup[1:] = (lead[1:] == lead[:-1]) & (stage[1:] == stage[:-1]) & (at[1:] == at[:-1])
    lead, stage, at = lead[~dup], stage[~dup], at[~dup]
    return {"lead_id": chunk.lead_ids(lead),
            "stage": labels(A.STAGES, stage), "occurred_at": at}


def _write_shared(sinks: dict[str, TableSink], world: World, tally: Tally) -> None:
    """Tables that do not hang off single leads: accounts, reps, plans, marketing, fx."""
    sinks["accounts"].write(accounts_table(world.accounts, world.account_created))
    sinks["reps"].write(reps_table(world.reps))
    sinks["quotas"].write(quotas_table(stream(world.seed, PLANS), world, tally))
    sinks["campaigns"].write(campaigns_table(world.campaigns))
    sinks["spend"].write(spend_table(stream(world.seed, SPEND), world.campaigns, world.window,
                                     world.leads))
    sinks["fx_rates"].write(world.fx.table())
    sinks["survey_responses"].write(survey_table(stream(world.seed, PLANS, 1), world))
    sinks["kpi_targets"].write(kpi_targets_table(world, tally))
