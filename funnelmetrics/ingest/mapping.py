"""Reading an export through a mapping: which file column is which canonical column, value maps,
and how the file writes dates, numbers and times (issue 13; README "Bring your CRM data").

A mapping file (`ingest --map mapping.toml`) and a preset's shipped TOML have one form:

    table = "opportunities"          # the canonical table the file loads into
    date_format = "DD/MM/YYYY"       # optional: order of slash dates
    decimal = ","                    # optional: decimal mark of numbers
    timezone = "Asia/Jakarta"        # optional: zone of timestamps without an offset
    currency = "IDR"                 # optional: currency when no column gives one
    null_values = ["n/a"]            # optional: texts that mean empty
    [columns]                        # canonical column = file column (or alternatives)
    opportunity_id = ["Deal ID", "ID"]
    [values.status]                  # file value (any case) = canonical value; "*" = the rest
    "Closed Won" = "won"

The file is then read as a relation of canonical columns (plus the file's other columns as
attributes), numbered by its own rows, so every rule, the quarantine and the counts work on it
as on a canonical file. Rows a preset leaves out on purpose (deleted records, history rows that
are not stage changes) are counted as skipped, with the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from funnelmetrics.errors import InputError
from funnelmetrics.ingest.options import date_order, decimal_mark
from funnelmetrics.ingest.readers import Source, SourceColumn, ident, sql_str
from funnelmetrics.ingest.view import Part, Select, View
from funnelmetrics.schema import TABLES

if TYPE_CHECKING:
    import duckdb

BASE = "__fm_file"
KEYS = {"table", "date_format", "decimal", "timezone", "currency", "null_values", "columns",
        "values", "detect", "description", "name"}


@dataclass(frozen=True)
class MappingFile:
    """A parsed mapping (a user's file or a preset's shipped TOML)."""

    path: Path
    table: str
    columns: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str | None = None
    timezone: str | None = None
    currency: str | None = None
    null_values: tuple[str, ...] = ()
    detect: tuple[tuple[str, ...], ...] = ()
    description: str = ""

    def detected(self, header: Sequence[str]) -> bool:
        """The header has a column of every `detect` group (a preset recognises its export)."""
        return bool(self.detect) and all(pick(header, *group) for group in self.detect)

    def column(self, header: Sequence[str], canonical: str) -> str | None:
        """The file column that gives `canonical` (first alternative present), if any."""
        return pick(header, *self.columns.get(canonical, ()))

    def selects(self, header: Sequence[str]) -> dict[str, str]:
        """Canonical column → SQL for every mapped column the file has (value maps applied)."""
        out: dict[str, str] = {}
        for canonical in self.columns:
            name = self.column(header, canonical)
            if name is not None:
                out[canonical] = value_map(ident(name), self.values.get(canonical, {}))
        if self.currency and "currency" not in out and _has_column(self.table, "currency"):
            out["currency"] = sql_str(self.currency)
        return out

    def view(self, header: Sequence[str], via: str, *, columns: dict[str, str] | None = None,
             where: str | None = None, skip_reason: str | None = None,
             timezone: str | None = None) -> View:
        """The View of a file with this header (`columns` add to or replace mapped ones)."""
        cols = self.selects(header) | (columns or {})
        missing = [c for c in TABLES[self.table].required if c not in cols]
        if missing:
            raise InputError(f"read with {via}, the file has no column for {', '.join(missing)} of "
                             f"table {self.table} (mapped from "
                             + "; ".join(f"{c}: {' or '.join(self.columns.get(c, ())) or '-'}"
                                         for c in missing) + ")")
        part = Part(self.table, (Select(cols, where),), extras(header, self.used(header)),
                    skip_reason)
        return View(via, part, self.date_format, self.decimal, self.timezone or timezone,
                    self.null_values)

    def used(self, header: Sequence[str]) -> set[str]:
        """File columns mapped one to one onto a canonical column (not kept twice)."""
        return {n for c in self.columns if (n := self.column(header, c)) is not None}


def pick(header: Sequence[str], *names: str) -> str | None:
    """The first of `names` the header has (exact, else case-insensitive)."""
    for name in names:
        if name in header:
            return name
    lower = {h.lower(): h for h in header}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def value_map(expr: str, values: MappingType[str, str]) -> str:
    """`expr` with file values replaced by canonical ones (case-insensitive; `*` = the rest)."""
    pairs = {k.strip().lower(): v for k, v in values.items() if k != "*"}
    if not pairs and "*" not in values:
        return expr
    whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in pairs.items())
    rest = sql_str(values["*"]) if "*" in values else expr
    return f"(CASE lower(trim({expr})) {whens} ELSE {rest} END)" if whens else (
        f"(CASE WHEN {expr} IS NULL THEN NULL ELSE {rest} END)")


def extras(header: Sequence[str], used: set[str]) -> tuple[str, ...]:
    """File columns kept as attributes: those not mapped one to one (see `attribute_name`)."""
    return tuple(h for h in header if h not in used and not h.startswith("__fm_"))


def attribute_name(name: str, table: str) -> str:
    """The attribute column a file column becomes (never a canonical column's name)."""
    canonical = {c.lower() for c in TABLES[table].names}
    return f"{name} (file)" if name.lower() in canonical else name


def _has_column(table: str, column: str) -> bool:
    return TABLES[table].column(column) is not None


# ---- reading a mapping file ---------------------------------------------------------------------
def read_mapping(path: Path) -> MappingFile:
    """A mapping file, checked: a wrong key or value is an InputError naming the file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return parse_mapping(data, Path(path))


def parse_mapping(data: dict[str, Any], path: Path) -> MappingFile:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(KEYS))})")
    table = str(data.get("table", "")).lower()
    if table not in TABLES:
        raise InputError(f"{path}: table {data.get('table')!r} is not a table; tables: "
                         f"{', '.join(TABLES)}")
    columns = {k: _names(v, path, k) for k, v in dict(data.get("columns", {})).items()}
    for name in [*columns, *dict(data.get("values", {}))]:
        if TABLES[table].column(name) is None:
            raise InputError(f"{path}: {name!r} is not a column of {table}; columns: "
                             f"{', '.join(TABLES[table].names)}")
    values = {k: {str(a): str(b) for a, b in dict(v).items()}
              for k, v in dict(data.get("values", {})).items()}
    unmapped = [k for k in values if k not in columns]
    if unmapped:
        raise InputError(f"{path}: [values.{unmapped[0]}] needs its file column under "
                         f"[columns] ({unmapped[0]} = \"<file column>\")")
    zone = data.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"{path}: unknown time zone {zone!r} (use an IANA name such as "
                             "'Asia/Jakarta')") from None
    currency = data.get("currency")
    if currency is not None and len(str(currency)) != 3:
        raise InputError(f"{path}: currency {currency!r} is not a three-letter code")
    try:
        order, mark = date_order(data.get("date_format")), decimal_mark(data.get("decimal"))
    except InputError as exc:
        raise InputError(f"{path}: {str(exc).removeprefix('--')}") from None
    return MappingFile(path, table, columns, values, order, mark,
                       str(zone) if zone else None, str(currency).upper() if currency else None,
                       tuple(str(v) for v in data.get("null_values", ())),
                       tuple(_names(d, path, "detect") for d in data.get("detect", ())),
                       str(data.get("description", "")))


def _names(value: object, path: Path, key: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or not all(
            isinstance(n, str) for n in names):
        raise InputError(f"{path}: {key}: give a file column name or a list of them")
    return tuple(names)


# ---- the relation a load reads ------------------------------------------------------------------
def wrap(con: duckdb.DuckDBPyConnection, source: Source, view: View) -> Source:
    """The source seen through the view: canonical columns, attributes, the file's row numbers;
    `skipped` counts the rows the view leaves out on purpose."""
    row = source.row_expr or f"(row_number() OVER () + {source.row_offset - 1})"
    base = ", ".join(f"{_nulled(c.expr, c.type, view.null_values)} AS {ident(c.name)}"
                     for c in source.columns)
    derived = "".join(f", {sql} AS {ident(name)}" for name, sql in view.part.derived)
    ctes = (f"__fm_read AS (SELECT {base}, {row} AS __fm_row FROM {source.relation}), "
            f"{BASE} AS MATERIALIZED (SELECT *{derived} FROM __fm_read)")
    names = {c.name for c in source.columns}
    kept = [e for e in view.part.extras if e in names]
    selects = []
    for s in view.part.selects:
        cols = [f"{expr} AS {ident(c)}" for c, expr in s.columns.items()]
        cols += [f"CAST({ident(e)} AS VARCHAR) AS {ident(attribute_name(e, view.table))}"
                 for e in kept]
        where = f" WHERE {s.where}" if s.where else ""
        selects.append(f"SELECT {', '.join(cols)}, __fm_row FROM {BASE}{where}")
    body = " UNION ALL BY NAME ".join(selects)
    relation = f"(WITH {ctes} SELECT * FROM ({body}) ORDER BY __fm_row)"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                             f"{relation})").fetchall())
    columns = [SourceColumn(c, ident(c), types[c]) for c in view.part.selects[0].columns]
    columns += [SourceColumn(attribute_name(e, view.table), ident(attribute_name(e, view.table)))
                for e in kept]
    wrapped = Source(source.file, relation, columns, row_expr="__fm_row", empty_is_null=False,
                     cleanup=source.cleanup)
    only = view.part.selects[0].where if len(view.part.selects) == 1 else None
    if only is not None and view.part.skip_reason:
        found = con.execute(f"WITH {ctes} SELECT count(*) FILTER (WHERE NOT "
                            f"coalesce({only}, false)) FROM {BASE}").fetchone()
        wrapped.skipped = int(found[0]) if found else 0
        wrapped.skip_reason = view.part.skip_reason
    return wrapped


def _nulled(expr: str, sql_type: str, null_values: tuple[str, ...]) -> str:
    """A file value with empty text (and the view's null texts) as null."""
    if sql_type != "VARCHAR":
        return expr
    value = f"NULLIF({expr}, '')"
    for text in null_values:
        value = f"NULLIF({value}, {sql_str(text)})"
    return value
