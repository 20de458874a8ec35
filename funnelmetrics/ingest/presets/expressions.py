"""Small SQL pieces the presets share: flags, numbers, dates and stage-name rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from funnelmetrics.ingest.mapping import MappingFile, pick, read_mapping
from funnelmetrics.ingest.readers import ident, sql_str

HERE = Path(__file__).parent
WON_NAME = r"^closed\W*won$"
LOST_NAME = r"^closed\W*lost$"


def shipped(name: str) -> MappingFile:
    """The TOML mapping a preset ships (users copy and edit it: `presets --show NAME`)."""
    return read_mapping(HERE / f"{name}.toml")


def col(header: Sequence[str], *names: str) -> str | None:
    """The SQL of the first of `names` the header has (None when it has none)."""
    name = pick(header, *names)
    return ident(name) if name is not None else None


def truthy(expr: str) -> str:
    """A CRM boolean: 1/true/yes (Salesforce "0"/"1", HubSpot true/false)."""
    return f"coalesce(lower(trim({expr})) IN ('1', 'true', 'yes', 'y'), false)"


def number(expr: str) -> str:
    """A plain number (a trailing % allowed), as DOUBLE."""
    return f"TRY_CAST(trim(replace({expr}, '%', '')) AS DOUBLE)"


def date_only(expr: str) -> str:
    """A date field written with a zero time (`2018-08-22 00:00:00`) as the date alone, so a
    close date on the creation day counts as closed that day."""
    return rf"regexp_replace({expr}, '[ T]00:00(:00(\.0+)?)?$', '')"


def stage_status(stage: str, overrides: Mapping[str, str]) -> str | None:
    """open/won/lost from the workspace's `[crm.deal_stages]` (None when it names none)."""
    if not overrides:
        return None
    whens = " ".join(f"WHEN {sql_str(k.strip().lower())} THEN {sql_str(v)}"
                     for k, v in overrides.items())
    return f"(CASE lower(trim({stage})) {whens} END)"


def status_sql(stage: str | None, overrides: Mapping[str, str], *, closed: str | None,
               won: str | None) -> str:
    """A deal's status: the workspace's stage override, else the CRM's closed and won flags,
    else the stage name (`Closed Won`, `Closed: lost` …), else open."""
    if closed is not None:
        flag = f"CASE WHEN {closed} THEN (CASE WHEN {won or 'false'} THEN 'won' ELSE 'lost' END) "
        flag += "ELSE 'open' END"
    elif stage is not None:
        name = f"lower(trim({stage}))"
        flag = (f"CASE WHEN regexp_matches({name}, {sql_str(WON_NAME)}) THEN 'won' "
                f"WHEN regexp_matches({name}, {sql_str(LOST_NAME)}) THEN 'lost' ELSE 'open' END")
    else:
        flag = "'open'"
    override = stage_status(stage, overrides) if stage is not None else None
    return f"coalesce({override}, {flag})" if override else f"({flag})"


def close_dates(status: str, close: str | None) -> dict[str, str]:
    """The CRM's one close date: closed_at of closed deals, expected_close_at of open ones."""
    if close is None:
        return {}
    return {"closed_at": f"CASE WHEN {status} IN ('won', 'lost') THEN {close} END",
            "expected_close_at": f"CASE WHEN {status} = 'open' THEN {close} END"}


