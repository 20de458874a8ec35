"""How a load reads a file through a preset or mapping: the canonical columns as SQL over the
file's own columns (see `mapping` for the mapping files that make them)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from funnelmetrics.ingest.options import ReadOptions


@dataclass(frozen=True)
class Select:
    """Canonical columns as SQL over the file's columns (quoted file names), for rows `where`."""

    columns: dict[str, str]
    where: str | None = None


@dataclass(frozen=True)
class Part:
    """One canonical table made from a file: one select, or several unioned (one row per
    stage date of a contact, say), and the file columns kept as attributes."""

    table: str
    selects: tuple[Select, ...]
    extras: tuple[str, ...] = ()
    skip_reason: str | None = None  # why rows outside the (single) select's `where` are left out
    derived: tuple[tuple[str, str], ...] = ()  # helper columns (window functions) for `where`


@dataclass(frozen=True)
class View:
    """How a load reads one file: through a preset or a mapping file, into one table."""

    via: str  # "preset hubspot-deals" or "mapping deals.toml"
    part: Part
    date_format: str | None = None
    decimal: str | None = None
    timezone: str | None = None
    null_values: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.part.table

    def read_options(self, given: ReadOptions) -> ReadOptions:
        """The load's options, the mapping's where the user gave none (flags win)."""
        return replace(given, date_format=given.date_format or self.date_format,
                       decimal=given.decimal or self.decimal,
                       timezone=given.timezone or self.timezone)
