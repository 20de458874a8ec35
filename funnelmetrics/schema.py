"""The data contract: the canonical tables of SPEC §2, their columns, keys and checked references.

Everything that reads or writes workspace tables (init, ingest, check, the metric compiler, the
demo generator) takes column names and types from here, so the contract lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """Logical column types; each maps to one DuckDB/Ibis type."""

    TEXT = "text"
    TIMESTAMP = "timestamp"  # an instant, stored as naive UTC
    NUMBER = "number"  # float64: amounts, rates, probabilities
    INTEGER = "integer"

    @property
    def sql(self) -> str:
        return {"text": "VARCHAR", "timestamp": "TIMESTAMP", "number": "DOUBLE",
                "integer": "BIGINT"}[self.value]

    @property
    def ibis(self) -> str:
        return {"text": "string", "timestamp": "timestamp", "number": "float64",
                "integer": "int64"}[self.value]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    non_negative: bool = False
    positive: bool = False  # greater than 0 (a rate: 0 would make every amount 0 or infinite)
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    default: str | None = None  # SQL literal used when the column is absent or null


@dataclass(frozen=True)
class Reference:
    """`column` must name a row of `table` loaded earlier (SPEC §2, references that are checked)."""

    column: str
    table: str
    target: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    # (start, end) pairs where end must not precede start
    ordered: tuple[tuple[str, str], ...] = ()
    depends_on: tuple[str, ...] = field(default=())

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


T, TS, N, INT = Kind.TEXT, Kind.TIMESTAMP, Kind.NUMBER, Kind.INTEGER


def _c(name: str, kind: Kind = T, required: bool = False, **kw: object) -> Column:
    return Column(name, kind, required, **kw)  # type: ignore[arg-type]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("leads", (
            _c("lead_id", required=True), _c("created_at", TS, True), _c("source"),
            _c("campaign_id"), _c("rep_id"), _c("account_id"), _c("industry"), _c("country"),
            _c("segment"), _c("lead_type"),
        ), key=("lead_id",)),
        Table("stage_events", (
            _c("lead_id", required=True), _c("stage", required=True),
            _c("occurred_at", TS, True),
        ), key=("lead_id", "stage", "occurred_at"),
            references=(Reference("lead_id", "leads", "lead_id"),), depends_on=("leads",)),
        # amount may be empty: unknown, not zero (amount metrics leave it out, counts keep it)
        Table("opportunities", (
            _c("opportunity_id", required=True), _c("created_at", TS, True),
            _c("status", required=True, choices=("open", "won", "lost")),
            _c("amount", N, non_negative=True), _c("lead_id"), _c("account_id"),
            _c("rep_id"), _c("closed_at", TS), _c("expected_close_at", TS), _c("deal_stage"),
            _c("probability", N, minimum=0.0, maximum=1.0),
            _c("contract_months", N, non_negative=True, default="12"), _c("lost_reason"),
            _c("currency"),
        ), key=("opportunity_id",), ordered=(("created_at", "closed_at"),)),
        Table("deal_stage_events", (
            _c("opportunity_id", required=True), _c("deal_stage", required=True),
            _c("occurred_at", TS, True),
        ), key=("opportunity_id", "deal_stage", "occurred_at"),
            references=(Reference("opportunity_id", "opportunities", "opportunity_id"),),
            depends_on=("opportunities",)),
        Table("accounts", (
            _c("account_id", required=True), _c("name"), _c("industry"), _c("segment"),
            _c("country"), _c("created_at", TS), _c("employees", N, non_negative=True),
        ), key=("account_id",)),
        Table("reps", (
            _c("rep_id", required=True), _c("name"), _c("team"), _c("region"), _c("manager_id"),
        ), key=("rep_id",)),
        Table("quotas", (
            _c("rep_id", required=True), _c("period_start", TS, True),
            _c("period_end", TS, True), _c("amount", N, True, non_negative=True),
        ), key=("rep_id", "period_start"), ordered=(("period_start", "period_end"),)),
        Table("campaigns", (
            _c("campaign_id", required=True), _c("channel", required=True), _c("name"),
            _c("started_at", TS), _c("ended_at", TS), _c("budget", N, non_negative=True),
        ), key=("campaign_id",), ordered=(("started_at", "ended_at"),)),
        Table("spend", (
            _c("date", TS, True), _c("amount", N, True, non_negative=True), _c("channel"),
            _c("campaign_id"), _c("category", choices=("marketing", "sales"),
                                  default="'marketing'"),
            _c("currency"),
        ), key=("date", "channel", "campaign_id", "category")),
        Table("touchpoints", (
            _c("lead_id", required=True), _c("occurred_at", TS, True),
            _c("channel", required=True), _c("campaign_id"), _c("touch_type"),
        ), key=("lead_id", "occurred_at", "channel"),
            references=(Reference("lead_id", "leads", "lead_id"),), depends_on=("leads",)),
        Table("subscriptions", (
            _c("subscription_id", required=True), _c("account_id", required=True),
            _c("mrr", N, True, non_negative=True), _c("started_at", TS, True),
            _c("ended_at", TS), _c("plan"), _c("currency"),
        ), key=("subscription_id",), ordered=(("started_at", "ended_at"),)),
        Table("engagement_events", (
            _c("account_id", required=True), _c("occurred_at", TS, True),
            _c("event", required=True), _c("weight", N, default="1"),
        )),
        Table("survey_responses", (
            _c("survey_id", required=True), _c("respondent_id", required=True),
            _c("answered_at", TS, True), _c("score", INT, True, minimum=0, maximum=10),
            _c("team"),
        ), key=("survey_id", "respondent_id")),
        Table("fx_rates", (
            _c("currency", required=True), _c("date", TS, True),
            _c("rate_to_reporting", N, True, positive=True),
        ), key=("currency", "date")),
        Table("kpi_targets", (
            _c("metric", required=True), _c("period_start", TS, True),
            _c("period_end", TS, True), _c("target", N, True), _c("dimension"), _c("value"),
        ), key=("metric", "period_start", "dimension", "value"),
            ordered=(("period_start", "period_end"),)),
    )
}

# Tables in the order one load takes them (references point backwards).
LOAD_ORDER: list[str] = [
    "accounts", "reps", "campaigns", "leads", "stage_events", "touchpoints", "opportunities",
    "deal_stage_events", "quotas", "spend", "subscriptions", "engagement_events",
    "survey_responses", "fx_rates", "kpi_targets",
]

QUARANTINE_TABLE = "_quarantine"
QUARANTINE_COLUMNS: dict[str, str] = {
    "loaded_at": "TIMESTAMP", "file": "VARCHAR", "table_name": "VARCHAR", "row_number": "BIGINT",
    "column_name": "VARCHAR", "reason": "VARCHAR", "value": "VARCHAR", "raw": "VARCHAR",
}


def create_sql(table: Table, extra: dict[str, str] | None = None) -> str:
    """CREATE TABLE statement for a canonical table (plus extra attribute columns)."""
    cols = [f'"{c.name}" {c.kind.sql}' for c in table.columns]
    cols += [f'"{name}" {sqltype}' for name, sqltype in (extra or {}).items()]
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({", ".join(cols)})'
