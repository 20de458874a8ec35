"""CRM export presets (issue 13): a preset is a shipped TOML mapping (`<name>.toml` here, which
users may copy and edit) plus small per-vendor rules in Python (status from closed/won flags,
MRR from interval and quantity, lifecycle dates as stage events, …).

`ingest --preset NAME FILE…` reads files through a preset; without it, a file whose name is not
a table (or whose header lacks the table's required columns) is recognised by its header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from funnelmetrics.config import CrmSettings
from funnelmetrics.errors import InputError
from funnelmetrics.ingest.mapping import MappingFile
from funnelmetrics.ingest.presets import hubspot, pipedrive, salesforce, stripe
from funnelmetrics.ingest.presets.expressions import HERE
from funnelmetrics.ingest.readers import ViewFinder, csv_header, xlsx_header
from funnelmetrics.ingest.view import View
from funnelmetrics.schema import TABLES

Build = Callable[[Sequence[str], CrmSettings], list[View]]


@dataclass(frozen=True)
class Preset:
    """A named way to read one vendor's export: which header it recognises, what it builds."""

    name: str
    tables: tuple[str, ...]
    detect: Callable[[Sequence[str]], bool]
    build: Build

    @property
    def path(self) -> Path:
        """The shipped mapping (copy it to start a mapping file of your own)."""
        return HERE / f"{self.name}.toml"

    @property
    def description(self) -> str:
        from funnelmetrics.ingest.presets.expressions import shipped

        return shipped(self.name).description


# In the order headers are tried: the most specific first (an opportunity export has IsWon,
# a history export has OpportunityId).
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("salesforce-opportunities", ("opportunities",), salesforce.is_opportunities,
           salesforce.opportunities),
    Preset("salesforce-opportunity-history", ("deal_stage_events",), salesforce.is_history,
           salesforce.history),
    Preset("salesforce-leads", ("leads", "stage_events"), salesforce.is_leads, salesforce.leads),
    Preset("salesforce-accounts", ("accounts",), salesforce.is_accounts, salesforce.accounts),
    Preset("salesforce-users", ("reps",), salesforce.is_users, salesforce.users),
    Preset("hubspot-deals", ("opportunities",), hubspot.is_deals, hubspot.deals),
    Preset("hubspot-contacts", ("leads", "stage_events"), hubspot.is_contacts, hubspot.contacts),
    Preset("pipedrive-deals", ("opportunities",), pipedrive.is_deals, pipedrive.deals),
    Preset("stripe-subscriptions", ("subscriptions",), stripe.is_subscriptions,
           stripe.subscriptions),
)}


def get(name: str) -> Preset:
    """The preset called `name`, or an InputError listing them."""
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise InputError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return preset


def detect(header: Sequence[str]) -> Preset | None:
    """The preset whose export has this header, if any."""
    return next((p for p in PRESETS.values() if p.detect(header)), None)


def finder(*, preset: str | None = None, mapping: MappingFile | None = None,
           crm: CrmSettings | None = None, encoding: str | None = None) -> ViewFinder:
    """Which views read each file of a load: the given mapping or preset for every file;
    otherwise a preset recognised by the header of a CSV file that is not a canonical one, or
    of a workbook not named after a table."""
    crm = crm or CrmSettings()
    chosen = get(preset) if preset else None

    def views(path: Path, fmt: str, table: str | None) -> list[View] | None:
        try:
            return _views(path, fmt, table)
        except InputError as exc:
            text = str(exc)
            raise InputError(text if text.startswith(str(path)) else f"{path}: {text}") from None

    def _views(path: Path, fmt: str, table: str | None) -> list[View] | None:
        if fmt not in ("csv", "xlsx"):
            if chosen or mapping:
                raise InputError(f"{path}: presets and mapping files read CSV and XLSX exports")
            return None
        if fmt == "xlsx" and not (chosen or mapping) and table is not None:
            return None  # a workbook named after its table: read as it is (no second parse)
        header = csv_header(path, encoding) if fmt == "csv" else xlsx_header(path)
        if mapping is not None:
            zone = crm.timezone
            return [mapping.view(header, f"mapping {mapping.path.name}", timezone=zone)]
        if chosen is not None:
            if not chosen.detect(header):
                found = detect(header)
                other = f"; it looks like {found.name}" if found else ""
                raise InputError(f"{path}: not a {chosen.name} export (its header lacks the "
                                 f"columns the preset knows it by{other}; see `funnelmetrics "
                                 f"presets --show {chosen.name}`)")
            return chosen.build(header, crm)
        if table is not None and canonical(header, table):
            return None
        found = detect(header)
        return found.build(header, crm) if found else None

    return views


def canonical(header: Sequence[str], table: str) -> bool:
    """The header has every required column of the table (a canonical file)."""
    names = {h.lower() for h in header}
    return all(c in names for c in TABLES[table].required)
