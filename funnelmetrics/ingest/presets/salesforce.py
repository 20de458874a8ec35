"""Salesforce presets: Lead, Opportunity, OpportunityHistory (Data Export/Data Loader API names
or report labels; FORMATS.md, Salesforce)."""

from __future__ import annotations

from collections.abc import Sequence

from funnelmetrics.config import CrmSettings
from funnelmetrics.ingest.presets.expressions import (
    close_dates,
    col,
    date_only,
    number,
    shipped,
    status_sql,
    truthy,
)
from funnelmetrics.ingest.view import Part, Select, View

DELETED = "deleted in Salesforce (IsDeleted = 1)"


def _kept(header: Sequence[str]) -> str | None:
    deleted = col(header, "IsDeleted", "Deleted")
    return f"NOT {truthy(deleted)}" if deleted else None


def is_leads(header: Sequence[str]) -> bool:
    return shipped("salesforce-leads").detected(header)


def leads(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Leads (deleted ones skipped); a converted lead's stage event at its ConvertedDate."""
    mapping = shipped("salesforce-leads")
    kept = _kept(header)
    view = mapping.view(header, "preset salesforce-leads", where=kept, skip_reason=DELETED,
                        timezone=crm.timezone)
    converted = col(header, "IsConverted", "Converted")
    on = col(header, "ConvertedDate", "Converted Date")
    if converted is None or on is None:
        return [view]
    opportunity = col(header, "ConvertedOpportunityId", "Converted Opportunity ID")
    stage = (f"CASE WHEN {opportunity} IS NOT NULL THEN 'opportunity' ELSE 'sql' END"
             if opportunity else "'opportunity'")
    where = f"{truthy(converted)} AND {on} IS NOT NULL" + (f" AND {kept}" if kept else "")
    event = Select({"lead_id": view.part.selects[0].columns["lead_id"], "stage": stage,
                    "occurred_at": date_only(on)}, where)
    return [view, View("preset salesforce-leads", Part("stage_events", (event,)),
                       timezone=mapping.timezone, null_values=mapping.null_values)]


def is_opportunities(header: Sequence[str]) -> bool:
    return shipped("salesforce-opportunities").detected(header)


def opportunities(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Opportunities: IsClosed/IsWon → status, Probability % → share, CloseDate → closed or
    expected close date (a date: `00:00:00` dropped), deleted rows skipped."""
    mapping = shipped("salesforce-opportunities")
    stage = col(header, *mapping.columns["deal_stage"])
    closed, won = col(header, "IsClosed", "Closed"), col(header, "IsWon", "Won")
    status = status_sql(stage, crm.deal_stages, closed=truthy(closed) if closed else None,
                        won=truthy(won) if won else None)
    close = col(header, "CloseDate", "Close Date")
    columns = {"status": status, **close_dates(status, date_only(close) if close else None)}
    prob = col(header, "Probability", "Probability (%)")
    if prob:
        columns["probability"] = f"{number(prob)} / 100"
    if crm.currency and not mapping.column(header, "currency"):
        columns["currency"] = f"'{crm.currency}'"
    return [mapping.view(header, "preset salesforce-opportunities", columns=columns,
                         where=_kept(header), skip_reason=DELETED, timezone=crm.timezone)]


def is_history(header: Sequence[str]) -> bool:
    return shipped("salesforce-opportunity-history").detected(header)


def history(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Deal stage events: the first row of each opportunity and every row whose stage differs
    from the one before it (by CreatedDate); the other rows (amount, close date or
    probability changes) and deleted rows are skipped."""
    mapping = shipped("salesforce-opportunity-history")
    view = mapping.view(header, "preset salesforce-opportunity-history", timezone=crm.timezone)
    cols = view.part.selects[0].columns
    kept = _kept(header)
    # the stage before, among the opportunity's rows that are not deleted
    before = (f"lag({cols['deal_stage']}) OVER (PARTITION BY {cols['opportunity_id']}, "
              f"{kept or 'true'} ORDER BY TRY_CAST({cols['occurred_at']} AS TIMESTAMP), "
              "__fm_row)")
    changed = f"{cols['deal_stage']} IS DISTINCT FROM __fm_stage_before"
    where = f"({kept}) AND {changed}" if kept else changed
    part = Part("deal_stage_events", (Select(cols, where),), (),
                "not a stage change (or deleted)", (("__fm_stage_before", before),))
    return [View(view.via, part, timezone=view.timezone, null_values=view.null_values)]


def is_accounts(header: Sequence[str]) -> bool:
    return shipped("salesforce-accounts").detected(header)


def accounts(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Accounts (deleted ones skipped)."""
    return [shipped("salesforce-accounts").view(header, "preset salesforce-accounts",
                                                where=_kept(header), skip_reason=DELETED)]


def is_users(header: Sequence[str]) -> bool:
    return shipped("salesforce-users").detected(header)


def users(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Reps: the users that own leads and opportunities."""
    return [shipped("salesforce-users").view(header, "preset salesforce-users")]
